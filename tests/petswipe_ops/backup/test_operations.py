"""Where the backup key comes from, and the one sentence when there is none."""

from __future__ import annotations

import pytest

from petswipe_ops.backup import crypto
from petswipe_ops.backup.operations import BackupTarget
from petswipe_ops.config import load_environment


def _target(project) -> BackupTarget:
    return BackupTarget(load_environment("local", project.root))


def test_a_missing_key_says_how_to_set_it_and_creates_nothing(make_project, monkeypatch):
    project = make_project()
    project.edit("local", lambda data: data["backup"].update(create_local_key=False))
    monkeypatch.delenv("PETSWIPE_BACKUP_KEY", raising=False)

    with pytest.raises(crypto.BackupKeyError) as caught:
        _target(project).key()

    assert str(caught.value) == (
        "no backup key: set PETSWIPE_BACKUP_KEY to a Fernet key (make one with "
        "`uv run --frozen petswipe-ops backup keygen`) or store it in the Prefect Secret "
        "block 'petswipe-backup-key'."
    )
    assert not (project.run_root / "local" / "backups").exists()
    assert not (project.run_root / "local" / "backup.key").exists()


def test_the_key_comes_from_the_variable_then_a_block_then_a_local_key_file(
    make_project, monkeypatch
):
    project = make_project()
    monkeypatch.setenv("PETSWIPE_BACKUP_KEY", "from-variable")
    assert _target(project).key("from-block").get_secret_value() == "from-variable"
    monkeypatch.delenv("PETSWIPE_BACKUP_KEY")
    assert _target(project).key("from-block").get_secret_value() == "from-block"

    made = _target(project).key()

    key_file = project.run_root / "local" / "backup.key"
    assert key_file.stat().st_mode & 0o077 == 0, "only its owner may read the key file"
    assert made.get_secret_value() == key_file.read_text()
    assert _target(project).key().get_secret_value() == made.get_secret_value()
    crypto.cipher(made)
    with pytest.raises(crypto.BackupKeyError, match="not a valid Fernet key"):
        crypto.cipher(crypto.SecretStr("short"))


def test_a_missing_pg_dump_is_one_sentence(monkeypatch, tmp_path):
    from petswipe_ops.errors import MissingBinaryError
    from petswipe_ops.platform.local.database import LocalDatabase

    monkeypatch.setenv("PETSWIPE_PG_BIN", str(tmp_path / "nowhere"))
    database = LocalDatabase("postgresql+psycopg://postgres:pw@127.0.0.1:1/petswipe")

    with pytest.raises(MissingBinaryError) as caught:
        database.backup(tmp_path / "dump")

    assert str(caught.value) == (
        f"pg_dump was not found in {tmp_path / 'nowhere'} (PETSWIPE_PG_BIN); install "
        "PostgreSQL's server binaries with 'sudo apt-get install postgresql' (or set "
        "PETSWIPE_PG_BIN to the folder holding them)."
    )
    assert not (tmp_path / "dump").exists()
