"""Database on RDS: the service's URL from Secrets Manager, snapshots as the backups.

The seam's file-level calls (backup to a file, restore into a fresh database, table counts)
go through the URL like the local sandbox's, with pg_dump against the instance. Recovery
points are RDS snapshots tagged with their tier, copied to the DR region as the DR vault;
a drill restores one into a scratch instance and times it (the RTO). The backup controls
read AWS Backup recovery points where that API answers, and RDS snapshots otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from petswipe_ops.errors import OpsError
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.errors import AwsError, aws_call
from petswipe_ops.platform.aws.outputs import StackOutputs
from petswipe_ops.platform.aws.secrets import SecretsManagerStore
from petswipe_ops.platform.local.database import LocalDatabase

TIER_TAG = "petswipe:tier"
SOURCE_TAG = "petswipe:source"


class Snapshot(BaseModel):
    """One RDS snapshot as the backup controls see it."""

    identifier: str
    arn: str
    region: str
    created: datetime | None
    status: str
    encrypted: bool
    tier: str | None
    source: str | None = None


class ScratchRestore(BaseModel):
    """A restore into a scratch instance: how long it took to be available, and its endpoint."""

    instance: str
    snapshot: str
    seconds: float
    endpoint: str | None


class RdsDatabase:
    def __init__(
        self,
        clients: AwsClients,
        outputs: StackOutputs,
        secrets: SecretsManagerStore,
        *,
        poll_seconds: float = 5.0,
        timeout: float = 3600,
    ) -> None:
        self.clients = clients
        self.rds = clients("rds")
        self.endpoint = clients.endpoint_url
        self.outputs = outputs
        self.secrets = secrets
        self.poll_seconds = poll_seconds
        self.timeout = timeout

    # -- the Database seam ----------------------------------------------------------------

    @property
    def url(self) -> str:
        """The service's DATABASE_URL, from Secrets Manager (what its tasks get injected)."""
        return self.secrets.get("DATABASE_URL").get_secret_value()

    @property
    def kind(self) -> str:
        return LocalDatabase(self.url).kind

    def backup(self, target: Path) -> None:
        LocalDatabase(self.url).backup(target)

    def restore(self, source: Path) -> AbstractContextManager[str]:
        return LocalDatabase(self.url).restore(source)

    def tables(self) -> dict[str, int]:
        return LocalDatabase(self.url).tables()

    # -- snapshots ------------------------------------------------------------------------

    @property
    def _instance(self) -> str:
        return f"RDS instance {self.outputs.db_instance}"

    def snapshot(self, tier: str, reason: str, now: datetime | None = None) -> Snapshot:
        """A manual snapshot of the instance tagged with its tier, waited for until available."""
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        identifier = f"{self.outputs.db_instance}-{tier}-{stamp}"
        with aws_call(f"snapshot ({reason})", self._instance, endpoint=self.endpoint):
            reply = self.rds.create_db_snapshot(
                DBSnapshotIdentifier=identifier,
                DBInstanceIdentifier=self.outputs.db_instance,
                Tags=[
                    {"Key": TIER_TAG, "Value": tier},
                    {"Key": "petswipe:reason", "Value": reason},
                ],
            )
        self._wait_snapshot(self.rds, identifier)
        return self._snapshot(reply["DBSnapshot"], self.outputs.region, tier)

    def copy_to_dr(self, snapshot: Snapshot) -> Snapshot:
        """Copy `snapshot` into the DR region (the DR vault); idempotent by identifier."""
        dr = self.clients("rds", self.outputs.dr_region)
        resource = f"snapshot {snapshot.identifier} to {self.outputs.dr_region}"
        with aws_call("copy", resource, endpoint=self.endpoint):
            existing = self._list(dr, snapshot.identifier)
            if existing:
                return self._snapshot(existing[0], self.outputs.dr_region, snapshot.tier)
            reply = dr.copy_db_snapshot(
                SourceDBSnapshotIdentifier=snapshot.arn,
                TargetDBSnapshotIdentifier=snapshot.identifier,
                SourceRegion=self.outputs.region,
                CopyTags=True,
                Tags=[
                    {"Key": TIER_TAG, "Value": snapshot.tier or "manual"},
                    {"Key": SOURCE_TAG, "Value": snapshot.arn},
                ],
            )
        self._wait_snapshot(dr, snapshot.identifier)
        copy = self._snapshot(reply["DBSnapshot"], self.outputs.dr_region, snapshot.tier)
        return copy.model_copy(update={"source": snapshot.arn})

    def snapshots(self, region: str | None = None) -> list[Snapshot]:
        """The instance's manual snapshots in `region` (default: the primary), oldest first."""
        region = region or self.outputs.region
        client = self.clients("rds", region)
        with aws_call(
            "list the snapshots of", f"{self._instance} in {region}", endpoint=self.endpoint
        ):
            found = [
                s
                for s in self._list(client, None)
                if s["DBSnapshotIdentifier"].startswith(f"{self.outputs.db_instance}-")
            ]
            tagged = []
            for item in found:
                tags = client.list_tags_for_resource(ResourceName=item["DBSnapshotArn"])["TagList"]
                values = {t["Key"]: t["Value"] for t in tags}
                tagged.append(
                    self._snapshot(item, region, values.get(TIER_TAG)).model_copy(
                        update={"source": values.get(SOURCE_TAG)}
                    )
                )
        return sorted(tagged, key=lambda s: s.created or datetime.min.replace(tzinfo=UTC))

    def recovery_points(self) -> list[dict[str, Any]] | None:
        """AWS Backup's recovery points of the vault; None where that API does not answer."""
        backup = self.clients("backup")
        try:
            with aws_call(
                "list the recovery points of", f"backup vault {self.outputs.backup_vault}"
            ):
                reply = backup.list_recovery_points_by_backup_vault(
                    BackupVaultName=self.outputs.backup_vault
                )
        except AwsError:
            return None
        return reply.get("RecoveryPoints", [])

    def delete_snapshot(self, snapshot: Snapshot) -> None:
        client = self.clients("rds", snapshot.region)
        with aws_call(
            "delete", f"snapshot {snapshot.identifier} in {snapshot.region}", endpoint=self.endpoint
        ):
            client.delete_db_snapshot(DBSnapshotIdentifier=snapshot.identifier)

    @contextmanager
    def restore_scratch(self, snapshot: Snapshot, name: str) -> Iterator[ScratchRestore]:
        """Restore `snapshot` into a new instance `name`; yield its timing; delete it after."""
        client = self.clients("rds", snapshot.region)
        resource = f"snapshot {snapshot.identifier} into scratch instance {name}"
        started = time.monotonic()
        with aws_call("restore", resource, endpoint=self.endpoint):
            client.restore_db_instance_from_db_snapshot(
                DBInstanceIdentifier=name,
                DBSnapshotIdentifier=snapshot.identifier,
                DeletionProtection=False,
                Tags=[{"Key": "petswipe:scratch", "Value": "dr-drill"}],
            )
        try:
            described = self._wait_instance(client, name)
            yield ScratchRestore(
                instance=name,
                snapshot=snapshot.identifier,
                seconds=time.monotonic() - started,
                endpoint=(described.get("Endpoint") or {}).get("Address"),
            )
        finally:
            with aws_call("delete", f"scratch instance {name}", endpoint=self.endpoint):
                client.delete_db_instance(
                    DBInstanceIdentifier=name, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
                )

    # -- helpers --------------------------------------------------------------------------

    def _list(self, client: Any, identifier: str | None) -> list[dict[str, Any]]:
        args: dict[str, Any] = {"SnapshotType": "manual"}
        if identifier:
            args = {"DBSnapshotIdentifier": identifier}
        else:
            args["DBInstanceIdentifier"] = self.outputs.db_instance
        try:
            return client.describe_db_snapshots(**args)["DBSnapshots"]
        except client.exceptions.DBSnapshotNotFoundFault:
            return []

    def _wait_snapshot(self, client: Any, identifier: str) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            with aws_call("wait for", f"snapshot {identifier}", endpoint=self.endpoint):
                found = client.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"]
            if found and found[0]["Status"] == "available":
                return
            if time.monotonic() > deadline:
                raise OpsError(
                    f"snapshot {identifier} was not available within {self.timeout:.0f} s; "
                    "check it in the RDS console and run again."
                )
            time.sleep(self.poll_seconds)

    def _wait_instance(self, client: Any, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            with aws_call("wait for", f"scratch instance {name}", endpoint=self.endpoint):
                found = client.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
            if found["DBInstanceStatus"] == "available":
                return found
            if time.monotonic() > deadline:
                raise OpsError(
                    f"scratch instance {name} was not available within {self.timeout:.0f} s; "
                    "delete it in the RDS console and run the drill again."
                )
            time.sleep(self.poll_seconds)

    @staticmethod
    def _snapshot(item: dict[str, Any], region: str, tier: str | None) -> Snapshot:
        return Snapshot(
            identifier=item["DBSnapshotIdentifier"],
            arn=item["DBSnapshotArn"],
            region=region,
            created=item.get("SnapshotCreateTime"),
            status=item.get("Status", "unknown"),
            encrypted=bool(item.get("Encrypted")),
            tier=tier,
        )
