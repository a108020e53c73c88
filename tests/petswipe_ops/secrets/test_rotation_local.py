"""Secret rotation on the local sandbox: real PostgreSQL roles, the reference service behind
HAProxy reloading credentials, the owner-only store keeping the three stages."""

from __future__ import annotations

import json
import stat
import threading
import time

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from petswipe_cli.main import app
from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.secrets.environment import local_store_path, rotation_for
from petswipe_ops.secrets.model import CURRENT, PENDING, PREVIOUS, SecretKind
from petswipe_ops.secrets.records import STEPS, RotationLedger
from petswipe_ops.secrets.rotation import RotationFailed
from petswipe_ops.secrets.store import LocalSecretStore, staged_value
from petswipe_ops.secrets.targets import DbCredentials

pytestmark = pytest.mark.integration


class Probe:
    """Requests through the router until stopped: pets, an API key, a JWT."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.sent = 0
        self.failed: list[str] = []
        self.api_key: str | None = None
        self.token: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with http_client.client(base_url=self.base, timeout=5.0) as client:
            while not self._stop.is_set():
                checks = [client.build_request("GET", "/api/pets?limit=3")]
                if self.api_key:
                    headers = {"X-API-Key": self.api_key}
                    checks.append(client.build_request("GET", "/api/pets?limit=1", headers=headers))
                if self.token:
                    headers = {"Authorization": f"Bearer {self.token}"}
                    checks.append(client.build_request("GET", "/auth/verify", headers=headers))
                for request in checks:
                    self.sent += 1
                    try:
                        reply = client.send(request)
                        if reply.status_code != 200:
                            self.failed.append(f"{request.url.path} {reply.status_code}")
                    except httpx.HTTPError as exc:
                        self.failed.append(f"{request.url.path} {type(exc).__name__}")
                time.sleep(0.005)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _sandbox(project) -> LocalSandbox:
    sandbox = LocalSandbox(load_environment("local", project.root))
    sandbox.up()
    return sandbox


def _server_user(sandbox: LocalSandbox) -> str:
    """The role the service's own connections use, as PostgreSQL sees them."""
    admin = psycopg.conninfo.make_conninfo(
        host="127.0.0.1",
        port=sandbox.local.postgres.port,
        user="postgres",
        password=sandbox.postgres.password(),
        dbname="postgres",
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'petswipe' "
            "AND usename LIKE 'petswipe_app_%'"
        ).fetchall()
    return ",".join(sorted(r[0] for r in rows))


@pytest.mark.usefixtures("prefect_harness")
def test_rotating_every_secret_under_load_fails_no_request(make_project):
    project = make_project()
    sandbox = _sandbox(project)
    config = sandbox.config
    with Probe(sandbox.router_url) as probe:
        rotated = CliRunner().invoke(app, ["secrets", "rotate", "--env", "local"])
        assert rotated.exit_code == 0, rotated.output[-2000:]
        assert "rotated 3 secret(s) of local" in rotated.stdout
        store = LocalSecretStore(local_store_path("local"))
        probe.api_key = staged_value(store, "petswipe/local/api-key", CURRENT).get_secret_value()
        issued = http_client.post(
            f"{sandbox.router_url}/auth/token", json={"user_id": 7}, timeout=5
        )
        assert issued.status_code == 200
        probe.token = issued.json()["token"]
        for kind in (SecretKind.DB, SecretKind.DB, SecretKind.API_KEY, SecretKind.JWT):
            rotation_for(config, kind).run()
            time.sleep(0.5)
        time.sleep(1.0)
    assert probe.sent > 200
    assert probe.failed == []
    # three db rotations alternate a -> b -> a; the service follows the current one
    creds = DbCredentials.load(staged_value(store, "petswipe/local/db-credentials", CURRENT))
    previous = DbCredentials.load(staged_value(store, "petswipe/local/db-credentials", PREVIOUS))
    assert {creds.username, previous.username} == {"petswipe_app_a", "petswipe_app_b"}
    # The old role's connections close as the requests in flight on them return.
    deadline = time.monotonic() + 15
    while _server_user(sandbox) != creds.username and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _server_user(sandbox) == creds.username
    # the token signed before the jwt rotation (now AWSPREVIOUS) still verifies; the old
    # API key (AWSPREVIOUS) too, while a made-up one is refused
    verify = http_client.get(
        f"{sandbox.router_url}/auth/verify",
        headers={"Authorization": f"Bearer {probe.token}"},
        timeout=5,
    )
    assert verify.status_code == 200
    wrong = http_client.get(
        f"{sandbox.router_url}/api/pets", headers={"X-API-Key": "made-up"}, timeout=5
    )
    assert wrong.status_code == 401
    mode = stat.S_IMODE(local_store_path("local").stat().st_mode)
    assert mode == 0o600
    records = list((sandbox.run_dir / "rotations").glob("*.json"))
    assert len(records) == 7
    for path in records:
        assert creds.password.get_secret_value() not in path.read_text()
    assert creds.password.get_secret_value() not in rotated.output


def test_a_failure_at_any_step_leaves_the_current_secret_working(make_project):
    project = make_project()
    sandbox = _sandbox(project)
    config = sandbox.config
    store = LocalSecretStore(local_store_path("local"))
    name = "petswipe/local/db-credentials"
    rotation_for(config, SecretKind.DB).run()
    for step in STEPS:
        current_id = store.version_id(name, CURRENT)
        current = staged_value(store, name, CURRENT)

        with pytest.raises(RotationFailed) as failed:
            rotation_for(config, SecretKind.DB).run(fault=step)

        assert f"failed at {step.value}" in str(failed.value)
        assert "AWSCURRENT is unchanged" in str(failed.value)
        assert store.version_id(name, CURRENT) == current_id
        assert staged_value(store, name, CURRENT).get_secret_value() == current.get_secret_value()
        with psycopg.connect(DbCredentials.load(current).conninfo()) as conn:
            assert conn.execute("SELECT count(*) FROM pets").fetchone()[0] >= 0
        assert http_client.get(f"{sandbox.router_url}/api/pets", timeout=5).status_code == 200
        record = RotationLedger(sandbox.run_dir / "rotations").unfinished(name)
        assert record.outcome == "failed" and record.steps[-1].step is step
        assert current.get_secret_value() not in str(failed.value)

        resumed = rotation_for(config, SecretKind.DB).run()

        assert resumed.rotation_id == record.rotation_id, "the failed rotation is resumed"
        assert store.version_id(name, CURRENT) == resumed.rotation_id
        assert staged_value(store, name, PREVIOUS).get_secret_value() == (
            current.get_secret_value()
        )
        assert store.version_id(name, PENDING) is None
        new = DbCredentials.load(staged_value(store, name, CURRENT))
        assert new.username != DbCredentials.load(current).username


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_rotation_fails_the_run_and_notifies(make_project, monkeypatch):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    project = make_project()
    project.edit("local", lambda d: d["local"].pop("postgres"))
    monkeypatch.setenv("PETSWIPE_NOTIFY_WEBHOOK", f"http://127.0.0.1:{server.server_port}/")
    try:
        result = CliRunner().invoke(app, ["secrets", "rotate", "--env", "local", "--secret", "db"])
    finally:
        server.shutdown()
    assert result.exit_code == 1
    assert "has no sandbox PostgreSQL" in result.stderr
    assert len(received) == 1
    assert received[0]["text"].startswith("Secret rotation in local: environment 'local' has no")
    assert not local_store_path("local").exists()


def test_a_service_that_missed_the_reload_rereads_the_secret_when_auth_fails(make_project):
    import uuid

    from petswipe_ops.secrets.environment import _local_db_admin
    from petswipe_ops.secrets.targets import PostgresAlternatingUsers

    project = make_project()
    sandbox = _sandbox(project)
    store = LocalSecretStore(local_store_path("local"))
    name = "petswipe/local/db-credentials"
    rotation_for(sandbox.config, SecretKind.DB).run()  # the service moves to role a on SIGHUP
    old = DbCredentials.load(staged_value(store, name, CURRENT))
    assert http_client.get(f"{sandbox.router_url}/api/pets", timeout=5).status_code == 200
    # a rotation to role b that never signals the service ...
    admin = _local_db_admin(sandbox.config)
    target = PostgresAlternatingUsers(admin)
    pending, vid = target.generate(staged_value(store, name, CURRENT)), str(uuid.uuid4())
    store.put_pending(name, vid, pending)
    target.set(pending, vid)
    store.promote(name, vid)
    # ... then role a's password changes and its sessions end, as the next rotation would do
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE {old.username} PASSWORD 'changed-elsewhere'")
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
            (old.username,),
        )

    replies = [http_client.get(f"{sandbox.router_url}/api/pets", timeout=5) for _ in range(5)]

    assert [r.status_code for r in replies] == [200] * 5
    assert _server_user(sandbox) == DbCredentials.load(pending).username
