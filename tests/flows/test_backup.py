"""Backup, backup-verification and DR-drill flows on PostgreSQL through Prefect's test harness;
the release's backup before migrating, and a migration that fails halfway."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import psycopg
import pytest
from cryptography.fernet import Fernet
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort
from sqlalchemy import create_engine, inspect, make_url

from petswipe_ops import demo_data, migrations, pipeline
from petswipe_ops.backup import controls
from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.record import Outcome
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import ReleaseNotPromoted
from tests.fixtures.migration_scripts import revision_script
from tests.fixtures.postgres import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


class Receiver:
    """A Slack-style webhook on 127.0.0.1 that keeps what it was sent."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _artifact(key: str) -> str:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return found[0].data if isinstance(found[0].data, str) else json.dumps(found[0].data)


@pytest.fixture
def pg_project(make_project, postgresql_url, monkeypatch):
    """A project whose local environment uses a database on the test cluster, seeded."""
    project = make_project()

    def use_database(data):
        data["local"]["database_url"] = postgresql_url
        data["local"].pop("postgres", None)

    project.edit("local", use_database)
    migrations.upgrade(postgresql_url, project.root / "migrations")
    demo_data.seed(postgresql_url, demo_data.DemoSize(users=20, pets=20, swipes=200, matches=10))
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("PETSWIPE_BACKUP_KEY", key)
    project.database_url = postgresql_url
    project.backup_key = key
    return project


def test_flows_verify_drill_and_notify_without_leaking_secrets(pg_project, caplog, monkeypatch):
    from flows.backup import backup
    from flows.backup_verification import backup_verification
    from flows.dr_drill import dr_drill

    caplog.set_level(logging.DEBUG)
    assert backup_verification(environment="local", return_state=True).is_failed()

    for _ in range(3):
        assert backup(environment="local", return_state=True).is_completed()
    passed = backup_verification(environment="local", return_state=True)
    assert passed.is_completed(), passed.message
    table = json.loads(_artifact("backup-verification-local"))
    assert [row["control"] for row in table][:3] == [
        controls.RPO,
        controls.TIERS,
        controls.CHECKSUMS,
    ]
    assert all(row["verdict"] == "PASS" for row in table)

    drill = dr_drill(environment="local", return_state=True)
    assert drill.is_completed(), drill.message
    report = _artifact("dr-drill-local")
    assert "# DR drill local: PASSED" in report and "RTO (restore + verify)" in report

    url = make_url(pg_project.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("ALTER TABLE swipes DROP CONSTRAINT swipes_user_id_fkey")
        conn.execute("INSERT INTO swipes (user_id, pet_id, direction) VALUES (99999, 1, 'like')")
    assert backup(environment="local", return_state=True).is_completed()
    with Receiver() as hook:
        monkeypatch.setenv("PETSWIPE_NOTIFY_WEBHOOK", hook.url)
        failed = dr_drill(environment="local", return_state=True)
    assert failed.is_failed()
    assert "swipes.user_id references an existing users.id (observed 1" in failed.message
    assert len(hook.received) == 1
    assert "swipes.user_id references an existing users.id" in hook.received[0]["text"]
    assert "| swipes.user_id references an existing users.id | FAIL | 1 |" in _artifact(
        "dr-drill-local"
    )

    run_dir = pg_project.run_root / "local"
    stored = [p.read_text() for p in (run_dir / "backups").rglob("*.json")]
    artifacts = [_artifact(f"{k}-local") for k in ("dr-drill", "backup-verification", "backup")]
    seen = "\n".join([caplog.text, *artifacts, *stored, failed.message, hook.received[0]["text"]])
    assert "postgres:***@" in seen, "the source is named, with its password masked"
    for secret in (PASSWORD, pg_project.backup_key):
        assert secret not in seen


def test_corrupted_backup_fails_the_verification_flow_with_its_row(pg_project):
    from flows.backup import backup
    from flows.backup_verification import backup_verification

    for _ in range(3):
        backup(environment="local")
    vault = pg_project.run_root / "local" / "backups" / "primary"
    newest = sorted(vault.glob("*.bin"))[-1]
    data = bytearray(newest.read_bytes())
    data[100] ^= 0xFF
    newest.write_bytes(bytes(data))

    state = backup_verification(environment="local", return_state=True)

    assert state.is_failed()
    assert state.message.startswith(f"backup controls failed: {controls.CHECKSUMS} (")
    rows = {r["control"]: r for r in json.loads(_artifact("backup-verification-local"))}
    assert rows[controls.CHECKSUMS]["verdict"] == "FAIL"
    assert "sha256 mismatch" in rows[controls.CHECKSUMS]["evidence"]


GOOD_MIGRATION = revision_script(
    "0004",
    "0003",
    "Add pet_tags: applies cleanly, before the failing revision.",
    upgrade=['op.create_table("pet_tags", sa.Column("id", sa.Integer, primary_key=True))'],
    downgrade=['op.drop_table("pet_tags")'],
)
FAILING_MIGRATION = revision_script(
    "0005",
    "0004",
    "Add pet_photos, then a column to a missing table: the second step fails.",
    upgrade=[
        'op.create_table("pet_photos", sa.Column("id", sa.Integer, primary_key=True))',
        'op.add_column("no_such_table", sa.Column("url", sa.String(200)))',
    ],
    downgrade=['op.drop_table("pet_photos")'],
)


def _schema(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {t: [c["name"] for c in found.get_columns(t)] for t in found.get_table_names()}
    finally:
        engine.dispose()


def test_a_migration_failing_halfway_leaves_the_schema_and_the_release_rolls_back(make_project):
    from flows.release import release

    project = make_project()
    sandbox = LocalSandbox(load_environment("local", project.root))
    sandbox.up()
    url = sandbox.database.url
    assert make_url(url).get_backend_name() == "postgresql"
    before = _schema(url)
    versions = project.root / "migrations" / "versions"
    (versions / "0004_pet_tags.py").write_text(GOOD_MIGRATION)
    (versions / "0005_pet_photos.py").write_text(FAILING_MIGRATION)

    failed_halfway = r"rolled back: Migration 0005.*the 1 revision\(s\)"
    with pytest.raises(ReleaseNotPromoted, match=failed_halfway):
        release(request=ReleaseRequest(environment="local", version="1.1.0", auto_approve=True))

    assert _schema(url) == before, "pet_photos went with the failed step, pet_tags was reverted"
    assert migrations.status(url, project.root / "migrations").current == "0003"
    record = pipeline.ledger("local").all()[-1]
    assert record.outcome is Outcome.ROLLED_BACK
    assert record.stage("migrate").status == "failed"
    taken = next(d for d in record.decisions if d.stage == "backup")
    backup_id = taken.evidence["backup_id"]
    assert (sandbox.run_dir / "backups" / "primary" / f"{backup_id}.json").is_file()
    assert (sandbox.run_dir / "backups" / "dr" / f"{backup_id}.json").is_file()
    assert record.stage("rollback").status == "passed"
