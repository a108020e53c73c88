"""The secret store seam over AWS Secrets Manager (boto3; moto server in tests).

Secrets Manager moves AWSPREVIOUS itself when AWSCURRENT moves, so promotion is one
`update_secret_version_stage` call: either it happened or it did not.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from petswipe_ops.secrets.model import CURRENT, PENDING
from petswipe_ops.secrets.store import SecretStoreError

BOTO_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard"})


def client(region: str) -> Any:
    return boto3.client("secretsmanager", region_name=region, config=BOTO_CONFIG)


def _fail(action: str, name: str, exc: Exception) -> SecretStoreError:
    code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
    return SecretStoreError(
        f"Secrets Manager refused to {action} {name} ({code}); check the secret exists "
        "and that the role may read and rotate it."
    )


class SecretsManagerStore:
    def __init__(self, region: str, sm: Any | None = None) -> None:
        self.sm = sm or client(region)

    def _describe(self, name: str) -> dict[str, Any] | None:
        try:
            return self.sm.describe_secret(SecretId=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise _fail("describe", name, exc) from None
        except BotoCoreError as exc:
            raise _fail("describe", name, exc) from None

    def stages(self, name: str) -> dict[str, list[str]]:
        described = self._describe(name) or {}
        return {k: list(v) for k, v in described.get("VersionIdsToStages", {}).items()}

    def version_id(self, name: str, stage: str) -> str | None:
        return next((vid for vid, s in self.stages(name).items() if stage in s), None)

    def value(self, name: str, version_id: str) -> SecretStr | None:
        try:
            reply = self.sm.get_secret_value(SecretId=name, VersionId=version_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise _fail("read", name, exc) from None
        except BotoCoreError as exc:
            raise _fail("read", name, exc) from None
        return SecretStr(reply["SecretString"])

    def put_pending(self, name: str, version_id: str, value: SecretStr) -> None:
        """createSecret: a new version labelled AWSPENDING, idempotent on its token."""
        stages = self.stages(name)
        if version_id in stages:
            return
        try:
            if self._describe(name) is None:
                self.sm.create_secret(Name=name, Description="rotated by petswipe-ops")
            self.sm.put_secret_value(
                SecretId=name,
                ClientRequestToken=version_id,
                SecretString=value.get_secret_value(),
                VersionStages=[PENDING],
            )
        except (ClientError, BotoCoreError) as exc:
            raise _fail("store a pending version of", name, exc) from None

    def promote(self, name: str, version_id: str) -> None:
        """finishSecret: AWSCURRENT moves to `version_id`, Secrets Manager sets AWSPREVIOUS."""
        stages = self.stages(name)
        if version_id not in stages:
            raise SecretStoreError(
                f"secret {name} has no version {version_id} to promote; "
                "run the rotation again to create a new one."
            )
        current = next((vid for vid, s in stages.items() if CURRENT in s), None)
        try:
            if current != version_id:
                kwargs: dict[str, str] = {"MoveToVersionId": version_id}
                if current is not None:
                    kwargs["RemoveFromVersionId"] = current
                self.sm.update_secret_version_stage(SecretId=name, VersionStage=CURRENT, **kwargs)
            if PENDING in self.stages(name).get(version_id, []):
                self.sm.update_secret_version_stage(
                    SecretId=name, VersionStage=PENDING, RemoveFromVersionId=version_id
                )
        except (ClientError, BotoCoreError) as exc:
            raise _fail("promote the pending version of", name, exc) from None

    def set_current(self, name: str, version_id: str, value: SecretStr) -> None:
        """Plant a first AWSCURRENT value (bootstrap and tests)."""
        self.put_pending(name, version_id, value)
        self.promote(name, version_id)
