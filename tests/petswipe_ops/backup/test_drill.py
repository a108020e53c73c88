"""DR drill on a real PostgreSQL cluster: pg_dump / pg_restore, a scratch database and a
great-expectations suite; a broken expectation is named."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import make_url

from petswipe_ops.backup import drill, vault
from petswipe_ops.config import Backup

SETTINGS = Backup()


def _databases(url: str) -> set[str]:
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False)) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def _backup(database, vaults, key):
    manifest = vault.take_backup(database, vaults, SETTINGS, key, "test")
    vault.copy_to_dr(vaults, manifest)
    return manifest


def test_drill_restores_verifies_and_drops_the_scratch_database(pg_db, vaults, key):
    manifest = _backup(pg_db, vaults, key)
    assert manifest.format == "postgresql"
    assert vaults.primary.data_path(manifest.id).read_bytes()[:5] != b"PGDMP"
    before = _databases(pg_db.url)

    report = drill.run_drill(pg_db, vaults, SETTINGS, key, "test")

    assert report.passed, drill.failure_message(report)
    assert report.backup_id == manifest.id
    assert 0 < report.restore_seconds <= report.rto_seconds < SETTINGS.restore_time_target_seconds
    assert report.rpo_seconds is not None and 0 <= report.rpo_seconds < 13 * 3600
    names = {e.name for e in report.expectations}
    assert "swipes.user_id references an existing users.id" in names
    assert "swipes: primary key id unique" in names
    assert "pets.name not null" in names
    assert any(n.startswith("swipes: row count within 5% of the source at backup") for n in names)
    assert _databases(pg_db.url) == before, "the scratch database was dropped"
    markdown = drill.render_markdown(report)
    assert "RTO (restore + verify)" in markdown and "RPO (age of the newest row)" in markdown


def test_orphaned_swipes_fail_the_drill_naming_the_expectation(pg_db, vaults, key):
    url = make_url(pg_db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE swipes DROP CONSTRAINT swipes_user_id_fkey")
        conn.execute(
            "INSERT INTO swipes (user_id, pet_id, direction) VALUES (987654, 1, 'like'), "
            "(987655, 2, 'pass')"
        )
    _backup(pg_db, vaults, key)

    report = drill.run_drill(pg_db, vaults, SETTINGS, key, "test")

    assert not report.passed
    assert [e.name for e in report.failed] == ["swipes.user_id references an existing users.id"]
    assert report.failed[0].observed == 2
    message = drill.failure_message(report)
    assert "swipes.user_id references an existing users.id (observed 2, expected ≤ 0)" in message


def test_rows_written_after_the_backup_do_not_fail_the_drill(pg_db, vaults, key):
    manifest = _backup(pg_db, vaults, key)
    url = make_url(pg_db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO swipes (user_id, pet_id, direction) "
            "SELECT user_id, pet_id, direction FROM swipes"
        )

    report = drill.run_drill(pg_db, vaults, SETTINGS, key, "test")

    assert report.passed, drill.failure_message(report)
    swipes = next(e for e in report.expectations if e.name.startswith("swipes: row count"))
    assert swipes.observed == manifest.row_counts["swipes"] < pg_db.tables()["swipes"]


def test_a_drill_with_an_empty_vault_says_to_back_up_first(pg_db, vaults, key):
    with pytest.raises(Exception, match="holds no backup; take one with `make backup ENV=test`"):
        drill.run_drill(pg_db, vaults, SETTINGS, key, "test")
