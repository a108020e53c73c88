"""The backup vault: encrypted backup files, each with a JSON manifest, in two folders.

`primary/` stands for the backup vault in the environment's region and `dr/` for the copy
in the DR region. A backup's tier follows grandfather-father-son: the first backup of a
calendar month is kept as monthly, the next one in an ISO week without a weekly as weekly,
the rest as daily (so three backups fill every tier of a new vault);
each tier's retention comes from the environment's `backup.retention_days`.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, SecretStr

from petswipe_ops.backup import crypto
from petswipe_ops.config import Backup, BackupTier
from petswipe_ops.errors import OpsError
from petswipe_ops.migrations import masked_url
from petswipe_ops.platform.seams import Database

PRIMARY = "primary"
DR = "dr"


class BackupManifest(BaseModel):
    """What a person (or a control) needs to trust a backup without opening it."""

    id: str
    environment: str
    source: str
    format: str
    created_at: datetime
    tier: BackupTier
    retention_days: int
    expires_at: datetime
    size: int
    sha256: str
    encryption: str
    row_counts: dict[str, int]
    seconds: float = 0.0


class Vault:
    """One folder of backups: `<id>.bin` (encrypted) beside `<id>.json` (manifest)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def data_path(self, backup_id: str) -> Path:
        return self.folder / f"{backup_id}.bin"

    def manifest_path(self, backup_id: str) -> Path:
        return self.folder / f"{backup_id}.json"

    def list(self) -> list[BackupManifest]:
        """Every backup the vault catalogues, oldest first."""
        if not self.folder.is_dir():
            return []
        manifests = [
            BackupManifest.model_validate_json(p.read_text()) for p in self.folder.glob("*.json")
        ]
        return sorted(manifests, key=lambda m: m.created_at)

    def get(self, backup_id: str) -> BackupManifest | None:
        path = self.manifest_path(backup_id)
        return BackupManifest.model_validate_json(path.read_text()) if path.is_file() else None

    def put(self, manifest: BackupManifest, data: Path) -> None:
        """Store the file, then the manifest: a manifest always names a complete file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{manifest.id}.partial"
        shutil.copyfile(data, partial)
        partial.replace(self.data_path(manifest.id))
        tmp = self.folder / f".{manifest.id}.json.partial"
        tmp.write_text(manifest.model_dump_json(indent=2))
        tmp.replace(self.manifest_path(manifest.id))

    def delete(self, backup_id: str) -> None:
        self.manifest_path(backup_id).unlink(missing_ok=True)
        self.data_path(backup_id).unlink(missing_ok=True)


class Vaults:
    """The primary vault and its DR-region copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.primary = Vault(root / PRIMARY)
        self.dr = Vault(root / DR)


def vault_root(settings: Backup, run_dir: Path) -> Path:
    return Path(settings.vault_dir).expanduser() if settings.vault_dir else run_dir / "backups"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def choose_tier(existing: list[BackupManifest], now: datetime) -> BackupTier:
    """Monthly for the month's first backup, weekly for the week's first other, else daily."""
    month = (now.year, now.month)
    week = now.isocalendar()[:2]
    if not any(
        m.tier is BackupTier.MONTHLY and (m.created_at.year, m.created_at.month) == month
        for m in existing
    ):
        return BackupTier.MONTHLY
    if not any(
        m.tier is BackupTier.WEEKLY and m.created_at.isocalendar()[:2] == week for m in existing
    ):
        return BackupTier.WEEKLY
    return BackupTier.DAILY


def take_backup(
    database: Database,
    vaults: Vaults,
    settings: Backup,
    key: SecretStr,
    environment: str,
    *,
    tier: BackupTier | None = None,
    now: datetime | None = None,
) -> BackupManifest:
    """Back the database up, encrypt it and store it in the primary vault."""
    now = now or datetime.now(UTC)
    tier = tier or choose_tier(vaults.primary.list(), now)
    started = time.perf_counter()
    backup_id = f"{environment}-{now:%Y%m%dT%H%M%S}-{tier.value}-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="petswipe-backup-") as folder:
        plain = Path(folder) / "plain"
        database.backup(plain)
        counts = database.tables()
        sealed = Path(folder) / "sealed"
        sealed.write_bytes(crypto.encrypt(key, plain.read_bytes()))
        plain.unlink()
        days = settings.retention_days[tier]
        manifest = BackupManifest(
            id=backup_id,
            environment=environment,
            source=masked_url(database.url),
            format=database.kind,
            created_at=now,
            tier=tier,
            retention_days=days,
            expires_at=now + timedelta(days=days),
            size=sealed.stat().st_size,
            sha256=sha256_file(sealed),
            encryption=crypto.SCHEME,
            row_counts=counts,
            seconds=round(time.perf_counter() - started, 3),
        )
        vaults.primary.put(manifest, sealed)
    return manifest


def copy_to_dr(vaults: Vaults, manifest: BackupManifest) -> BackupManifest:
    """Copy a backup to the DR vault and check the copy's checksum."""
    vaults.dr.put(manifest, vaults.primary.data_path(manifest.id))
    copied = sha256_file(vaults.dr.data_path(manifest.id))
    if copied != manifest.sha256:
        vaults.dr.delete(manifest.id)
        raise OpsError(
            f"the DR copy of {manifest.id} does not match its checksum; the copy was removed, "
            "run the backup again."
        )
    return manifest


def prune(vaults: Vaults, now: datetime | None = None) -> list[str]:
    """Delete backups past their tier's retention from both vaults; return their ids."""
    now = now or datetime.now(UTC)
    expired = [m.id for m in vaults.primary.list() + vaults.dr.list() if m.expires_at <= now]
    for backup_id in set(expired):
        vaults.primary.delete(backup_id)
        vaults.dr.delete(backup_id)
    return sorted(set(expired))


def open_backup(vaults: Vaults, manifest: BackupManifest, key: SecretStr, target: Path) -> Path:
    """Decrypt a backup into `target`, from the primary vault or else its intact DR copy."""
    for vault in (vaults.primary, vaults.dr):
        path = vault.data_path(manifest.id)
        if path.is_file() and sha256_file(path) == manifest.sha256:
            target.write_bytes(crypto.decrypt(key, path.read_bytes(), f"backup {manifest.id}"))
            return target
    raise OpsError(
        f"backup {manifest.id} has no intact copy in either vault; take a new one with "
        "`make backup`."
    )
