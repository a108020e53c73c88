"""The backup operations of one environment, as the flows and the command line use them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, SecretStr

from petswipe_ops import demo_data
from petswipe_ops.backup import controls, crypto, drill, vault
from petswipe_ops.config import Backup, BackupTier, EnvironmentConfig, PlatformKind
from petswipe_ops.jsonfile import write_atomically
from petswipe_ops.paths import run_dir
from petswipe_ops.platform import open_platform
from petswipe_ops.platform.seams import Database


class BackupTarget:
    """An environment's database, vaults and backup settings."""

    def __init__(self, config: EnvironmentConfig) -> None:
        self.config = config
        self.environment = config.environment
        self.settings: Backup = config.backup
        self.run_dir = run_dir(config.environment)
        self.vaults = vault.Vaults(vault.vault_root(self.settings, self.run_dir))
        self._platform = open_platform(config)

    @property
    def database(self) -> Database:
        return self._platform.database

    def database_up(self) -> Database:
        """Start the local sandbox's database if it has one of its own."""
        start = getattr(self._platform, "database_up", None)
        if start is not None:
            start()
        return self.database

    def key(self, from_block: str | None = None) -> SecretStr:
        """The backup key: environment variable, then Secret block, then the local key file."""
        env = crypto.key_from_env(self.settings.key_env)
        if env is not None:
            return env
        if from_block:
            return SecretStr(from_block)
        if self.config.platform is PlatformKind.LOCAL and self.settings.create_local_key:
            return crypto.local_key(self.run_dir / "backup.key")
        raise crypto.missing_key(self.settings.key_env, self.settings.key_block)


class VerificationReport(BaseModel):
    environment: str
    checked_at: datetime
    controls: list[controls.ControlResult]

    @property
    def passed(self) -> bool:
        return not controls.failed(self.controls)


def report_path(target: BackupTarget, kind: str) -> Path:
    """The latest report of `kind` (verification, drill), kept beside the vaults."""
    return target.vaults.root / "reports" / f"latest-{kind}.json"


def save_report(target: BackupTarget, kind: str, report: BaseModel) -> Path:
    path = report_path(target, kind)
    write_atomically(path, report)
    return path


class BackupRun(BaseModel):
    manifest: vault.BackupManifest
    pruned: list[str]


def backup(
    target: BackupTarget,
    key: SecretStr,
    tier: BackupTier | None = None,
    now: datetime | None = None,
) -> BackupRun:
    """Back up, copy to the DR vault, prune what is past its retention."""
    now = now or datetime.now(UTC)
    manifest = vault.take_backup(
        target.database, target.vaults, target.settings, key, target.environment, tier=tier, now=now
    )
    vault.copy_to_dr(target.vaults, manifest)
    return BackupRun(manifest=manifest, pruned=vault.prune(target.vaults, now))


def verify(target: BackupTarget, key: SecretStr, now: datetime | None = None) -> VerificationReport:
    now = now or datetime.now(UTC)
    restore = controls.restorer(target.database, target.vaults, key)
    results = controls.evaluate(target.vaults, target.settings, restore, now)
    report = VerificationReport(environment=target.environment, checked_at=now, controls=results)
    save_report(target, "verification", report)
    return report


def dr_drill(
    target: BackupTarget, key: SecretStr, now: datetime | None = None
) -> drill.DrillReport:
    report = drill.run_drill(
        target.database, target.vaults, target.settings, key, target.environment, now
    )
    save_report(target, "drill", report)
    return report


def prepare_first_backup(target: BackupTarget) -> dict[str, int] | None:
    """On a local environment whose vault is empty and whose database holds no swipes, seed
    demo data so a first drill has something to check; return what was added."""
    if target.vaults.primary.list() or target.config.platform is not PlatformKind.LOCAL:
        return None
    database = target.database_up()
    if database.tables().get("swipes", 0):
        return None
    return demo_data.seed(database.url, demo_data.DemoSize())


def render_backup(run: BackupRun, vault_root: Path) -> str:
    m = run.manifest
    lines = [
        "| backup | tier | size | sha256 | expires | DR copy |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {m.id} | {m.tier.value} | {m.size} B | {m.sha256[:12]}… | "
        f"{m.expires_at:%Y-%m-%d} | yes |",
        "",
        f"Vault: {vault_root}; pruned: {', '.join(run.pruned) or 'nothing past retention'}.",
    ]
    return "\n".join(lines)
