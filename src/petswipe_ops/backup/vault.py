"""The backup vault: encrypted backup files, each with a JSON manifest, in two folders.

`primary/` stands for the backup vault in the environment's region and `dr/` for the copy
in the DR region. A backup's tier follows grandfather-father-son: the first backup of a
calendar month is kept as monthly, the next one in an ISO week without a weekly as weekly,
the rest as daily (so three backups fill every tier of a new vault);
each tier's retention comes from the environment's `backup.retention_days`.

A backup's id names its files, so it is held to a strict pattern and every path built
from it is checked to stay inside its vault folder before anything is written or deleted.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, SecretStr, field_validator

from petswipe_ops.backup import crypto
from petswipe_ops.config import Backup, BackupTier
from petswipe_ops.errors import OpsError
from petswipe_ops.jsonfile import CorruptFile, load_model
from petswipe_ops.migrations import masked_url
from petswipe_ops.platform.seams import Database

PRIMARY = "primary"
DR = "dr"
BACKUP_ID = r"^[a-z][a-z0-9-]{0,30}-\d{8}T\d{6}-(daily|weekly|monthly)-[0-9a-f]{6}$"
"""`<environment>-<UTC time>-<tier>-<6 hex>`, as take_backup makes them: no separators,
dots or other characters a path could be built from."""


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

    @field_validator("id")
    @classmethod
    def _well_formed(cls, backup_id: str) -> str:
        return check_id(backup_id)


def check_id(backup_id: str) -> str:
    """`backup_id` if it is one take_backup could have made, else a ValueError."""
    if not re.match(BACKUP_ID, backup_id):
        raise ValueError(
            f"{backup_id!r} is not a backup id such as local-20260301T020000-daily-1a2b3c"
        )
    return backup_id


class Vault:
    """One folder of backups: `<id>.bin` (encrypted) beside `<id>.json` (manifest)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def data_path(self, backup_id: str) -> Path:
        return self._inside(backup_id, ".bin")

    def manifest_path(self, backup_id: str) -> Path:
        return self._inside(backup_id, ".json")

    def _inside(self, backup_id: str, suffix: str) -> Path:
        """`<folder>/<id><suffix>`, refused unless the id is well formed and the resolved
        path is a direct child of the vault folder."""
        try:
            check_id(backup_id)
        except ValueError as exc:
            raise OpsError(f"{exc}; copy it from `make backup` or a manifest's id.") from None
        path = self.folder / f"{backup_id}{suffix}"
        if path.resolve().parent != self.folder.resolve():
            raise OpsError(f"{path} is outside the vault {self.folder}; nothing was changed.")
        return path

    def _read(self, path: Path) -> BackupManifest:
        manifest = load_model(path, BackupManifest)
        if manifest.id != path.stem:
            raise CorruptFile(
                path, "backup manifest", f"its id {manifest.id!r} does not match the file name"
            )
        return manifest

    def list(self) -> list[BackupManifest]:
        """Every backup the vault catalogues, oldest first; a broken manifest is an error."""
        if not self.folder.is_dir():
            return []
        manifests = [self._read(p) for p in self.folder.glob("*.json")]
        return sorted(manifests, key=lambda m: m.created_at)

    def get(self, backup_id: str) -> BackupManifest | None:
        path = self.manifest_path(backup_id)
        return self._read(path) if path.is_file() else None

    def intact(self, manifest: BackupManifest) -> bool:
        """The backup's file is here and matches the checksum its manifest recorded."""
        path = self.data_path(manifest.id)
        return path.is_file() and sha256_file(path) == manifest.sha256

    def put(self, manifest: BackupManifest, data: Path) -> None:
        """Store the file, then the manifest: a manifest always names a complete file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{manifest.id}.partial"
        shutil.copyfile(data, partial)
        partial.replace(self.data_path(manifest.id))
        tmp = self.folder / f".{manifest.id}.json.partial"
        tmp.write_text(manifest.model_dump_json(indent=2))
        tmp.replace(self.manifest_path(manifest.id))

    def files(self, backup_id: str) -> list[Path]:
        """The backup's manifest and data file, manifest first (so a delete that stops
        half-way leaves a file no manifest names, never a manifest without its file)."""
        return [self.manifest_path(backup_id), self.data_path(backup_id)]

    def delete(self, backup_id: str) -> None:
        for path in self.files(backup_id):
            path.unlink(missing_ok=True)


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


def newest_intact(vaults: Vaults, manifests: list[BackupManifest]) -> BackupManifest | None:
    """The newest backup with a copy that matches its checksum: the one a restore would use."""
    for manifest in sorted(manifests, key=lambda m: m.created_at, reverse=True):
        if vaults.primary.intact(manifest) or vaults.dr.intact(manifest):
            return manifest
    return None


def prune(vaults: Vaults, now: datetime | None = None) -> list[str]:
    """Delete backups past their tier's retention from both vaults; return their ids.

    Every manifest is read (and its id checked) before anything is deleted, and the newest
    intact backup is kept even when expired, so pruning never leaves nothing to restore.
    """
    now = now or datetime.now(UTC)
    manifests = vaults.primary.list() + vaults.dr.list()
    keep = newest_intact(vaults, manifests)
    expired = {m.id for m in manifests if m.expires_at <= now} - {keep.id if keep else ""}
    doomed = [
        path for i in sorted(expired) for v in (vaults.primary, vaults.dr) for path in v.files(i)
    ]
    for path in doomed:
        path.unlink(missing_ok=True)
    return sorted(expired)


def open_backup(vaults: Vaults, manifest: BackupManifest, key: SecretStr, target: Path) -> Path:
    """Decrypt a backup into `target`, from the primary vault or else its intact DR copy."""
    for vault in (vaults.primary, vaults.dr):
        if vault.intact(manifest):
            path = vault.data_path(manifest.id)
            target.write_bytes(crypto.decrypt(key, path.read_bytes(), f"backup file {path}"))
            return target
    raise OpsError(
        f"backup {manifest.id} has no intact copy in either vault; take a new one with "
        "`make backup`."
    )
