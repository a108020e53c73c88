"""The migration runner against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from petswipe_ops import migrations
from petswipe_ops.errors import ConfigError, MigrationChecksumError, OpsError
from petswipe_ops.migrations import MigrationError, MigrationStep
from tests.fixtures.migration_scripts import revision_script
from tests.fixtures.postgres import postgresql_server, postgresql_url  # noqa: F401
from tests.sandbox.test_petswipe_service import running_service

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

BROKEN = revision_script(
    "0004",
    "0003",
    "Half-working revision: the first operation succeeds, the second fails.",
    upgrade=[
        'op.create_table("adoptions", sa.Column("id", sa.Integer, primary_key=True))',
        'op.execute("INSERT INTO no_such_table (id) VALUES (1)")',
    ],
    downgrade=['op.drop_table("adoptions")'],
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'petswipe.db'}"


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _count(url: str, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


def test_upgrade_records_each_step_with_checksum_and_timing(sqlite_url: str) -> None:
    seen: list[MigrationStep] = []
    steps = migrations.upgrade(sqlite_url, MIGRATIONS, on_step=seen.append)

    assert [s.revision for s in steps] == ["0001", "0002", "0003"]
    assert seen == steps
    for step in steps:
        script = next((MIGRATIONS / "versions").glob(f"{step.revision}_*.py"))
        assert step.script == script.name
        assert step.checksum == hashlib.sha256(script.read_bytes()).hexdigest()
        assert step.direction == "upgrade" and step.success and step.error is None
        assert step.execution_ms > 0
        assert step.started_at.tzinfo is not None

    status = migrations.status(sqlite_url, MIGRATIONS)
    assert status.current == status.head == "0003"
    assert status.pending == [] and status.applied == ["0001", "0002", "0003"]
    assert status.history == steps
    assert _count(sqlite_url, "pets") == 50 and _count(sqlite_url, "users") == 20
    assert migrations.upgrade(sqlite_url, MIGRATIONS) == []


def test_status_of_an_empty_database_lists_everything_pending(sqlite_url: str) -> None:
    status = migrations.status(sqlite_url, MIGRATIONS)
    assert status.current is None
    assert status.pending == ["0001", "0002", "0003"]
    assert status.applied == [] and status.history == []


def test_upgrade_to_target_then_downgrade(sqlite_url: str) -> None:
    assert [s.revision for s in migrations.upgrade(sqlite_url, MIGRATIONS, target="0002")] == [
        "0001",
        "0002",
    ]
    assert migrations.status(sqlite_url, MIGRATIONS).pending == ["0003"]
    migrations.upgrade(sqlite_url, MIGRATIONS)

    down = migrations.downgrade(sqlite_url, MIGRATIONS, steps=2)
    assert [(s.revision, s.direction, s.success) for s in down] == [
        ("0003", "downgrade", True),
        ("0002", "downgrade", True),
    ]
    status = migrations.status(sqlite_url, MIGRATIONS)
    assert status.current == "0001" and status.pending == ["0002", "0003"]
    assert _count(sqlite_url, "pets") == 0
    assert len(status.history) == 5

    migrations.downgrade(sqlite_url, MIGRATIONS)
    assert {"users", "pets", "swipes", "matches"}.isdisjoint(_tables(sqlite_url))
    with pytest.raises(OpsError, match="only 0 applied"):
        migrations.downgrade(sqlite_url, MIGRATIONS)


def test_unknown_target_is_refused(sqlite_url: str) -> None:
    with pytest.raises(OpsError, match="not a known revision"):
        migrations.upgrade(sqlite_url, MIGRATIONS, target="9999")


def test_edited_applied_script_blocks_upgrade(sqlite_url: str, migrations_copy: Path) -> None:
    migrations.upgrade(sqlite_url, migrations_copy, target="0002")
    script = migrations_copy / "versions" / "0001_create_tables.py"
    script.write_text(script.read_text() + "\n# tweak\n")

    with pytest.raises(MigrationChecksumError, match=r"0001 \(0001_create_tables\.py\)") as info:
        migrations.upgrade(sqlite_url, migrations_copy)
    assert "add a new revision" in str(info.value)
    status = migrations.status(sqlite_url, migrations_copy)
    assert status.current == "0002" and len(status.history) == 2
    with pytest.raises(MigrationChecksumError):
        migrations.verify_checksums(sqlite_url, migrations_copy)


def test_downgraded_script_may_change(sqlite_url: str, migrations_copy: Path) -> None:
    migrations.upgrade(sqlite_url, migrations_copy)
    migrations.downgrade(sqlite_url, migrations_copy)
    script = migrations_copy / "versions" / "0003_index_swipes_user_created.py"
    script.write_text(script.read_text() + "\n# reworked before re-applying\n")

    migrations.verify_checksums(sqlite_url, migrations_copy)
    assert [s.revision for s in migrations.upgrade(sqlite_url, migrations_copy)] == ["0003"]


def _add_broken(migrations_dir: Path) -> None:
    (migrations_dir / "versions" / "0004_broken.py").write_text(BROKEN)


def test_failing_migration_is_recorded_and_raises(sqlite_url: str, migrations_copy: Path) -> None:
    migrations.upgrade(sqlite_url, migrations_copy)
    _add_broken(migrations_copy)
    seen: list[MigrationStep] = []
    with pytest.raises(MigrationError, match=r"0004 \(0004_broken\.py\).*no_such_table"):
        migrations.upgrade(sqlite_url, migrations_copy, on_step=seen.append)

    assert seen == [], "nothing applied, nothing reverted"
    status = migrations.status(sqlite_url, migrations_copy)
    assert status.current == "0003" and status.pending == ["0004"]
    failed = status.history[-1]
    assert (failed.revision, failed.success) == ("0004", False)
    assert failed.error is not None and "no_such_table" in failed.error
    assert "adoptions" not in _tables(sqlite_url)


def test_a_failed_run_reverts_the_revisions_it_applied_before_the_failure(
    sqlite_url: str, migrations_copy: Path
) -> None:
    migrations.upgrade(sqlite_url, migrations_copy, target="0001")
    before = _tables(sqlite_url)
    _add_broken(migrations_copy)
    seen: list[MigrationStep] = []
    with pytest.raises(MigrationError, match=r"0004.*the 2 revision\(s\) this run applied"):
        migrations.upgrade(sqlite_url, migrations_copy, on_step=seen.append)

    assert [(s.revision, s.direction) for s in seen] == [
        ("0002", "upgrade"),
        ("0003", "upgrade"),
        ("0003", "downgrade"),
        ("0002", "downgrade"),
    ]
    assert migrations.status(sqlite_url, migrations_copy).current == "0001"
    assert _tables(sqlite_url) == before


def test_postgres_upgrade_and_service_request(postgresql_url: str) -> None:  # noqa: F811
    steps = migrations.upgrade(postgresql_url, MIGRATIONS)
    assert [s.revision for s in steps] == ["0001", "0002", "0003"]
    assert migrations.status(postgresql_url, MIGRATIONS).current == "0003"

    with running_service(postgresql_url, version="9.9.9") as client:
        assert client.get("/health").json() == {"status": "ok", "version": "9.9.9"}
        created = client.post("/api/swipes", json={"user_id": 2, "pet_id": 7, "direction": "like"})
        assert created.status_code == 201
        assert client.get("/api/matches", params={"user_id": 2}).json()["matches"][0]["pet_id"] == 7


def test_postgres_failure_halfway_leaves_schema_unchanged(
    postgresql_url: str,  # noqa: F811
    migrations_copy: Path,
) -> None:
    _add_broken(migrations_copy)
    migrations.upgrade(postgresql_url, migrations_copy, target="0003")
    before = _tables(postgresql_url)

    with pytest.raises(MigrationError, match="0004") as info:
        migrations.upgrade(postgresql_url, migrations_copy)

    assert "s3cret-pw" not in str(info.value)
    assert _tables(postgresql_url) == before
    assert "adoptions" not in before
    status = migrations.status(postgresql_url, migrations_copy)
    assert status.current == "0003"
    assert (status.history[-1].revision, status.history[-1].success) == ("0004", False)


def test_unreachable_database_message_hides_password() -> None:
    url = "postgresql+psycopg://app:hunter2@127.0.0.1:1/petswipe?connect_timeout=2"
    with pytest.raises(OpsError, match="Cannot connect") as info:
        migrations.status(url, MIGRATIONS)
    assert "hunter2" not in str(info.value) and "***" in str(info.value)


def _stamp(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "operation",
    [migrations.status, migrations.upgrade, migrations.downgrade],
    ids=["status", "upgrade", "downgrade"],
)
def test_a_database_at_an_unknown_revision_is_one_sentence(
    sqlite_url: str, migrations_copy: Path, operation
) -> None:
    migrations.upgrade(sqlite_url, migrations_copy)
    _stamp(sqlite_url, "abc123")
    with pytest.raises(ConfigError) as err:
        operation(sqlite_url, migrations_copy)
    assert str(err.value) == (
        f"The database at {sqlite_url} is at revision 'abc123', which is not in "
        f"{migrations_copy / 'versions'}; restore that revision's script (or check you are "
        "pointing at the right database)."
    )
    assert _count(sqlite_url, "migration_history") == 3


def _branch(migrations_dir: Path, revision: str) -> None:
    (migrations_dir / "versions" / f"{revision}.py").write_text(
        revision_script(revision, "0003", f"branch {revision}", ["pass"], ["pass"])
    )


def test_two_heads_are_one_sentence_and_nothing_runs(sqlite_url: str, migrations_copy) -> None:
    migrations.upgrade(sqlite_url, migrations_copy, target="0002")
    _branch(migrations_copy, "0004a")
    _branch(migrations_copy, "0004b")
    for operation in (migrations.status, migrations.upgrade):
        with pytest.raises(ConfigError) as err:
            operation(sqlite_url, migrations_copy)
        assert str(err.value) == (
            f"{migrations_copy / 'versions'} has 2 heads (0004a, 0004b); merge them into one "
            "with `alembic merge heads` before migrating."
        )
    (migrations_copy / "versions" / "0004b.py").unlink()
    assert migrations.status(sqlite_url, migrations_copy).current == "0002"


def test_a_script_revising_a_missing_revision_is_one_sentence(
    sqlite_url: str, migrations_copy: Path
) -> None:
    (migrations_copy / "versions" / "0004.py").write_text(
        revision_script("0004", "0999", "revises nothing", ["pass"], ["pass"])
    )
    with pytest.raises(ConfigError) as err:
        migrations.upgrade(sqlite_url, migrations_copy)
    assert str(err.value) == (
        f"The revision scripts in {migrations_copy / 'versions'} are inconsistent (a "
        "down_revision names '0999', which no script has); fix that script's down_revision."
    )
    assert "users" not in _tables(sqlite_url)
