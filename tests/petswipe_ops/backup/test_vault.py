"""The vault's files as a user (or a broken disk) may leave them: corrupt or hostile
manifests are one sentence naming the file, and prune never deletes outside the vault nor
the newest backup a restore could use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from petswipe_ops.backup import crypto, vault
from petswipe_ops.config import BackupTier
from petswipe_ops.errors import OpsError
from petswipe_ops.jsonfile import CorruptFile

START = datetime(2026, 3, 1, 2, tzinfo=UTC)


def stored(vaults: vault.Vaults, tmp_path: Path, age_days: int, tag: str) -> vault.BackupManifest:
    """A backup of `age_days` ago, past its one-day retention, in both vaults."""
    created = START - timedelta(days=age_days)
    data = tmp_path / f"data-{tag}"
    data.write_bytes(f"backup {tag}".encode())
    manifest = vault.BackupManifest(
        id=f"test-{created:%Y%m%dT%H%M%S}-daily-{tag}",
        environment="test",
        source="sqlite:///x",
        format="sqlite",
        created_at=created,
        tier=BackupTier.DAILY,
        retention_days=1,
        expires_at=created + timedelta(days=1),
        size=data.stat().st_size,
        sha256=vault.sha256_file(data),
        encryption=crypto.SCHEME,
        row_counts={},
    )
    vaults.primary.put(manifest, data)
    vaults.dr.put(manifest, data)
    return manifest


def plant(folder: Path, name: str, manifest: vault.BackupManifest, **changes) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({**json.loads(manifest.model_dump_json()), **changes}))
    return path


@pytest.fixture
def victim(tmp_path: Path) -> list[Path]:
    """Files where `<vault>/primary/../../x.*` resolves: outside the vault."""
    files = [tmp_path / "x.bin", tmp_path / "x.json"]
    for path in files:
        path.write_text("not the vault's")
    return files


def test_a_manifest_id_that_climbs_out_of_the_vault_deletes_nothing(vaults, tmp_path, victim):
    good = stored(vaults, tmp_path, 10, "aaaaaa")
    evil = plant(vaults.primary.folder, "evil", good, id="../../x")
    with pytest.raises(CorruptFile) as err:
        vault.prune(vaults, START)
    assert str(err.value) == (
        f"{evil} is not a valid backup manifest (field 'id': '../../x' is not a backup id such "
        "as local-20260301T020000-daily-1a2b3c); move it aside or delete it."
    )
    assert all(path.read_text() == "not the vault's" for path in victim)
    assert [m.id for m in vaults.dr.list()] == [good.id]
    assert vaults.primary.data_path(good.id).is_file()


def test_deleting_by_a_hostile_id_is_refused(vaults, victim):
    with pytest.raises(OpsError, match=r"^'\.\./\.\./x' is not a backup id such as"):
        vaults.primary.delete("../../x")
    assert all(path.is_file() for path in victim)


def test_a_manifest_under_another_backups_name_is_refused(vaults, tmp_path):
    first = stored(vaults, tmp_path, 10, "aaaaaa")
    second = stored(vaults, tmp_path, 5, "bbbbbb")
    disguised = plant(vaults.primary.folder, second.id, first)
    with pytest.raises(CorruptFile, match="does not match the file name") as err:
        vault.prune(vaults, START)
    assert str(disguised) in str(err.value)
    assert vaults.primary.data_path(first.id).is_file()


def test_a_symlinked_backup_file_pointing_outside_is_not_followed(vaults, tmp_path, victim):
    manifest = stored(vaults, tmp_path, 10, "aaaaaa")
    stored(vaults, tmp_path, 1, "bbbbbb")
    linked = vaults.primary.data_path(manifest.id)
    linked.unlink()
    linked.symlink_to(victim[0])
    with pytest.raises(OpsError, match="is outside the vault"):
        vault.prune(vaults, START)
    assert victim[0].read_text() == "not the vault's"
    assert vaults.primary.manifest_path(manifest.id).is_file()


def test_a_truncated_manifest_is_one_sentence_naming_it(vaults, tmp_path):
    manifest = stored(vaults, tmp_path, 1, "aaaaaa")
    path = vaults.primary.manifest_path(manifest.id)
    path.write_text(path.read_text()[:40])
    with pytest.raises(CorruptFile) as err:
        vaults.primary.list()
    assert str(err.value).startswith(f"{path} is not a valid backup manifest (line ")
    assert str(err.value).endswith("); move it aside or delete it.")


def test_prune_keeps_the_newest_intact_backup_even_past_retention(vaults, tmp_path):
    oldest = stored(vaults, tmp_path, 30, "aaaaaa")
    intact = stored(vaults, tmp_path, 20, "bbbbbb")
    broken = stored(vaults, tmp_path, 10, "cccccc")
    for folder in (vaults.primary, vaults.dr):
        folder.data_path(broken.id).write_bytes(b"flipped")

    pruned = vault.prune(vaults, START)

    assert pruned == [oldest.id, broken.id]
    assert [m.id for m in vaults.primary.list()] == [intact.id]
    assert [m.id for m in vaults.dr.list()] == [intact.id]


def test_a_broken_local_key_file_is_one_sentence_naming_it(tmp_path):
    path = tmp_path / "backup.key"
    path.write_text("not-a-fernet-key")
    with pytest.raises(crypto.BackupKeyError) as err:
        crypto.local_key(path)
    assert str(err.value).startswith(f"{path} does not hold a valid Fernet key;")
    assert "not-a-fernet-key" not in str(err.value)
