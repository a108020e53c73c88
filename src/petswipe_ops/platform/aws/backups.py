"""Backups of an AWS environment: tiered RDS snapshots, their DR-region copies, the controls
and the drill.

A backup is a manual RDS snapshot tagged with its tier, copied to the DR region (the DR
vault) and pruned past its tier's retention in both regions. The controls read AWS Backup
recovery points where that API answers with some, and these snapshots otherwise. The drill
restores the newest snapshot into a scratch instance and times it against the RTO; the
scratch instance is always deleted. moto runs no database engine behind an instance, so on
the AWS sandbox the drill proves the restore path and its timing; the data checks are
proven by the local drill (great-expectations on a real restored database).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel

from petswipe_ops.backup.controls import (
    DR_COPY,
    ENCRYPTED,
    RESTORE,
    RESTORE_TIME,
    RPO,
    TIERS,
    ControlResult,
)
from petswipe_ops.config import BackupTier
from petswipe_ops.errors import OpsError
from petswipe_ops.platform.aws.database import RdsDatabase, Snapshot
from petswipe_ops.platform.aws.platform import AwsPlatform

EMULATED_NOTE = (
    "moto runs no database engine: the drill checked the restore path and its time; the data "
    "checks are proven by the local drill"
)


class AwsBackupRun(BaseModel):
    snapshot: Snapshot
    dr_copy: Snapshot
    pruned: list[str]


class AwsDrillReport(BaseModel):
    environment: str
    snapshot: str
    scratch_instance: str
    rto_seconds: float
    rto_target_seconds: float
    rpo_seconds: float | None
    passed: bool
    note: str | None = None

    def summary(self) -> str:
        rpo = f"{self.rpo_seconds:.0f} s" if self.rpo_seconds is not None else "no data"
        return f"RTO {self.rto_seconds:.2f} s (target {self.rto_target_seconds:.0f} s), RPO {rpo}"


def choose_tier(existing: list[Snapshot], now: datetime) -> BackupTier:
    """Monthly for the month's first snapshot, weekly for the week's first other, else daily."""
    dated = [(s.tier, s.created) for s in existing if s.created]
    if not any(t == "monthly" and (c.year, c.month) == (now.year, now.month) for t, c in dated):
        return BackupTier.MONTHLY
    week = now.isocalendar()[:2]
    if not any(t == "weekly" and c.isocalendar()[:2] == week for t, c in dated):
        return BackupTier.WEEKLY
    return BackupTier.DAILY


class AwsBackups:
    def __init__(self, platform: AwsPlatform) -> None:
        self.platform = platform
        self.database: RdsDatabase = platform.database
        self.settings = platform.config.backup
        self.outputs = platform.outputs

    def run(self, tier: BackupTier | None = None, now: datetime | None = None) -> AwsBackupRun:
        """Snapshot, copy to the DR region, prune; a re-run after an interruption converges."""
        now = now or datetime.now(UTC)
        tier = tier or choose_tier(self.database.snapshots(), now)
        snapshot = self.database.snapshot(tier.value, f"{tier.value} backup", now)
        copy = self.database.copy_to_dr(snapshot)
        for primary in self.database.snapshots():
            if primary.status == "available":
                self.database.copy_to_dr(primary)
        return AwsBackupRun(snapshot=snapshot, dr_copy=copy, pruned=self.prune(now))

    def prune(self, now: datetime) -> list[str]:
        pruned = []
        for region in (self.outputs.region, self.outputs.dr_region):
            for snapshot in self.database.snapshots(region):
                if self._expired(snapshot, now):
                    self.database.delete_snapshot(snapshot)
                    pruned.append(f"{region}/{snapshot.identifier}")
        return pruned

    def _expired(self, snapshot: Snapshot, now: datetime) -> bool:
        if snapshot.created is None or snapshot.tier not in {t.value for t in BackupTier}:
            return False
        keep = timedelta(days=self.settings.retention_days[BackupTier(snapshot.tier)])
        return snapshot.created + keep < now

    def controls(self, now: datetime | None = None) -> list[ControlResult]:
        now = now or datetime.now(UTC)
        points = self.database.recovery_points()
        if points:
            return self._recovery_point_controls(points, now)
        primary = [s for s in self.database.snapshots() if not self._expired(s, now)]
        copies = {s.identifier: s for s in self.database.snapshots(self.outputs.dr_region)}
        results = [self._rpo(primary, now), self._tiers(primary)]
        unencrypted = [s.identifier for s in primary if not s.encrypted]
        results.append(
            ControlResult(
                control=ENCRYPTED,
                passed=bool(primary) and not unencrypted,
                evidence=(
                    f"not encrypted: {', '.join(unencrypted)}"
                    if unencrypted
                    else f"{len(primary)} RDS snapshots encrypted"
                ),
            )
        )
        missing = [s.identifier for s in primary if s.identifier not in copies]
        results.append(
            ControlResult(
                control=DR_COPY,
                passed=bool(primary) and not missing,
                evidence=(
                    f"no copy in {self.outputs.dr_region}: {', '.join(missing)}"
                    if missing
                    else f"{len(primary)} snapshots copied to {self.outputs.dr_region}"
                ),
            )
        )
        results += self._restore(primary)
        return results

    def _rpo(self, snapshots: list[Snapshot], now: datetime) -> ControlResult:
        dated = [s for s in snapshots if s.created]
        if not dated:
            return ControlResult(control=RPO, passed=False, evidence="no RDS snapshot")
        newest = max(dated, key=lambda s: s.created)
        age_h = (now - newest.created).total_seconds() / 3600
        return ControlResult(
            control=RPO,
            passed=age_h <= self.settings.rpo_hours,
            evidence=(
                f"newest {newest.identifier}, {age_h:.1f} h old (RPO {self.settings.rpo_hours} h)"
            ),
        )

    def _tiers(self, snapshots: list[Snapshot]) -> ControlResult:
        found = {t: sum(s.tier == t.value for s in snapshots) for t in BackupTier}
        missing = [t.value for t, n in found.items() if not n]
        evidence = ", ".join(
            f"{t.value} {n} ({self.settings.retention_days[t]} d)" for t, n in found.items()
        )
        return ControlResult(
            control=TIERS,
            passed=not missing,
            evidence=f"none: {', '.join(missing)}; {evidence}" if missing else evidence,
        )

    def _restore(self, snapshots: list[Snapshot]) -> list[ControlResult]:
        if not snapshots:
            none = "no snapshot to restore"
            return [
                ControlResult(control=RESTORE, passed=False, evidence=none),
                ControlResult(control=RESTORE_TIME, passed=False, evidence=none),
            ]
        report = self.drill(snapshots[-1])
        return [
            ControlResult(
                control=RESTORE,
                passed=True,
                evidence=f"{report.snapshot} restored into {report.scratch_instance}; "
                f"{report.note or 'available'}",
            ),
            ControlResult(
                control=RESTORE_TIME,
                passed=report.passed,
                evidence=report.summary(),
            ),
        ]

    def _recovery_point_controls(self, points: list[dict], now: datetime) -> list[ControlResult]:
        """AWS Backup's own view, where that API answers with recovery points."""
        completed = [p for p in points if p.get("Status") == "COMPLETED"]
        newest = max((p["CreationDate"] for p in completed), default=None)
        age_h = (now - newest).total_seconds() / 3600 if newest else None
        unencrypted = [p["RecoveryPointArn"] for p in completed if not p.get("IsEncrypted")]
        return [
            ControlResult(
                control=RPO,
                passed=age_h is not None and age_h <= self.settings.rpo_hours,
                evidence=f"newest recovery point {age_h:.1f} h old" if age_h else "none",
            ),
            ControlResult(
                control=ENCRYPTED,
                passed=bool(completed) and not unencrypted,
                evidence=f"{len(completed)} recovery points, {len(unencrypted)} unencrypted",
            ),
        ]

    def drill(
        self, snapshot: Snapshot | None = None, now: datetime | None = None
    ) -> AwsDrillReport:
        now = now or datetime.now(UTC)
        if snapshot is None:
            available = [s for s in self.database.snapshots() if s.status == "available"]
            if not available:
                raise OpsError(
                    f"environment '{self.platform.config.environment}' has no RDS snapshot to "
                    f"drill on; take one with `make backup ENV={self.platform.config.environment}` "
                    "first."
                )
            snapshot = available[-1]
        name = f"{self.outputs.db_instance}-drill-{now:%Y%m%d%H%M%S}"
        with self.database.restore_scratch(snapshot, name) as restored:
            seconds = restored.seconds
        target = self.settings.restore_time_target_seconds
        rpo = (now - snapshot.created).total_seconds() if snapshot.created else None
        return AwsDrillReport(
            environment=self.platform.config.environment,
            snapshot=snapshot.identifier,
            scratch_instance=name,
            rto_seconds=seconds,
            rto_target_seconds=target,
            rpo_seconds=rpo,
            passed=seconds <= target,
            note=EMULATED_NOTE if self.platform.emulated else None,
        )
