"""Backup controls on a real vault of encrypted SQLite backups: a failure names its control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from petswipe_ops.backup import controls, crypto, vault
from petswipe_ops.config import Backup, BackupTier
from tests.petswipe_ops.backup.conftest import fill

SETTINGS = Backup()


def _verify(database, vaults, key):
    return controls.evaluate(vaults, SETTINGS, controls.restorer(database, vaults, key))


def _failed(results) -> set[str]:
    return {r.control for r in controls.failed(results)}


def test_a_complete_vault_passes_every_control(sqlite_db, vaults, key):
    made = fill(sqlite_db, vaults, key)

    results = _verify(sqlite_db, vaults, key)

    assert _failed(results) == set(), controls.render_table(results)
    assert [r.control for r in results] == [
        controls.RPO,
        controls.TIERS,
        controls.CHECKSUMS,
        controls.ENCRYPTED,
        controls.DR_COPY,
        controls.RESTORE,
        controls.RESTORE_TIME,
    ]
    newest = made[-1]
    assert newest.row_counts["swipes"] == sqlite_db.tables()["swipes"] > 0
    raw = vaults.primary.data_path(newest.id).read_bytes()
    assert not raw.startswith(b"SQLite format 3") and crypto.looks_encrypted(raw[:16])
    assert newest.expires_at - newest.created_at == timedelta(days=30)
    assert made[0].retention_days == 365 and made[1].retention_days == 90


def test_one_corrupted_byte_fails_the_checksum_control(sqlite_db, vaults, key):
    made = fill(sqlite_db, vaults, key)
    path = vaults.primary.data_path(made[1].id)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    results = _verify(sqlite_db, vaults, key)

    assert _failed(results) == {controls.CHECKSUMS}
    row = next(r for r in results if r.control == controls.CHECKSUMS)
    assert f"{made[1].id}: sha256 mismatch" in row.evidence
    assert "| checksums intact | FAIL |" in controls.render_table(results)


def test_deleting_the_newest_backup_fails_the_rpo_control(sqlite_db, vaults, key):
    made = fill(sqlite_db, vaults, key)
    vaults.primary.data_path(made[-1].id).unlink()

    results = _verify(sqlite_db, vaults, key)

    assert controls.RPO in _failed(results)
    rpo = next(r for r in results if r.control == controls.RPO)
    assert made[1].id in rpo.evidence and "RPO 26 h" in rpo.evidence
    assert f"{made[-1].id}: file missing" in next(
        r.evidence for r in results if r.control == controls.CHECKSUMS
    )


def test_an_empty_tier_fails_the_tier_control(sqlite_db, vaults, key):
    made = fill(sqlite_db, vaults, key)
    weekly = next(m for m in made if m.tier is BackupTier.WEEKLY)
    vaults.primary.delete(weekly.id)
    vaults.dr.delete(weekly.id)

    results = _verify(sqlite_db, vaults, key)

    assert _failed(results) == {controls.TIERS}
    assert "weekly: none" in next(r.evidence for r in results if r.control == controls.TIERS)


def test_a_missing_dr_copy_fails_the_copy_control(sqlite_db, vaults, key):
    made = fill(sqlite_db, vaults, key)
    vaults.dr.delete(made[0].id)

    assert _failed(_verify(sqlite_db, vaults, key)) == {controls.DR_COPY}


def test_tiers_follow_the_calendar_and_prune_by_retention(sqlite_db, vaults, key):
    first = datetime(2026, 3, 1, 2, tzinfo=UTC)
    tiers = []
    for day in (0, 1, 2, 8):
        manifest = vault.take_backup(
            sqlite_db, vaults, SETTINGS, key, "test", now=first + timedelta(days=day)
        )
        vault.copy_to_dr(vaults, manifest)
        tiers.append(manifest.tier)
    assert tiers == [BackupTier.MONTHLY, BackupTier.WEEKLY, BackupTier.DAILY, BackupTier.WEEKLY]

    pruned = vault.prune(vaults, first + timedelta(days=32))

    assert len(pruned) == 1 and "-daily-" in pruned[0]
    assert [m.tier for m in vaults.primary.list()] == [
        BackupTier.MONTHLY,
        BackupTier.WEEKLY,
        BackupTier.WEEKLY,
    ]
    assert [m.id for m in vaults.dr.list()] == [m.id for m in vaults.primary.list()]


def test_a_backup_opened_with_another_key_is_one_sentence(sqlite_db, vaults, key, tmp_path):
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    made = fill(sqlite_db, vaults, key)
    other = SecretStr(Fernet.generate_key().decode())
    with pytest.raises(crypto.BackupKeyError, match="cannot be decrypted") as caught:
        vault.open_backup(vaults, made[-1], other, tmp_path / "out")
    assert key.get_secret_value() not in str(caught.value)
    assert other.get_secret_value() not in str(caught.value)
