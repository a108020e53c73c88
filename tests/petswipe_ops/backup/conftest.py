"""A migrated, seeded PetSwipe database (SQLite or PostgreSQL), a key and a pair of vaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from petswipe_ops import demo_data, migrations
from petswipe_ops.backup import vault
from petswipe_ops.config import Backup, BackupTier
from petswipe_ops.paths import project_root
from petswipe_ops.platform.local.database import LocalDatabase

MIGRATIONS = project_root() / "migrations"
SMALL = demo_data.DemoSize(users=30, pets=40, swipes=300, matches=25)


def seeded(url: str) -> LocalDatabase:
    migrations.upgrade(url, MIGRATIONS)
    demo_data.seed(url, SMALL)
    return LocalDatabase(url)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> LocalDatabase:
    return seeded(f"sqlite:///{tmp_path / 'petswipe.db'}")


@pytest.fixture
def pg_db(postgresql_url: str) -> LocalDatabase:
    return seeded(postgresql_url)


@pytest.fixture
def key() -> SecretStr:
    return SecretStr(Fernet.generate_key().decode())


@pytest.fixture
def vaults(tmp_path: Path) -> vault.Vaults:
    return vault.Vaults(tmp_path / "vault")


def fill(database, vaults, key, settings=None) -> list[vault.BackupManifest]:
    """A monthly three days ago, a weekly two days ago and a daily an hour ago, each copied."""
    settings = settings or Backup()
    now = datetime.now(UTC)
    made = []
    for tier, age in (
        (BackupTier.MONTHLY, timedelta(days=3)),
        (BackupTier.WEEKLY, timedelta(days=2)),
        (BackupTier.DAILY, timedelta(hours=1)),
    ):
        manifest = vault.take_backup(
            database, vaults, settings, key, "test", tier=tier, now=now - age
        )
        vault.copy_to_dr(vaults, manifest)
        made.append(manifest)
    return made
