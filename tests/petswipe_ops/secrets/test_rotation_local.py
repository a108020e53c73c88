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

from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.secrets.environment import local_store_path, rotation_for
from petswipe_ops.secrets.model import CURRENT, PENDING, PREVIOUS, SecretKind
from petswipe_ops.secrets.records import STEPS, RotationLedger, Step
from petswipe_ops.secrets.rotation import RotationFailed
from petswipe_ops.secrets.store import LocalSecretStore, staged_value
from petswipe_ops.secrets.targets import DbCredentials
from tests.petswipe_cli.test_main import cli

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
        with httpx.Client(base_url=self.base, timeout=5.0) as client:
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


def test_rotating_every_secret_under_load_fails_no_request(make_project):
    project = make_project()
    sandbox = _sandbox(project)
    config = sandbox.config
    with Probe(sandbox.router_url) as probe:
        rotated = cli(project, "secrets", "rotate", "--env", "local", timeout=300)
        assert rotated.returncode == 0, rotated.stderr[-2000:]
        store = LocalSecretStore(local_store_path("local"))
        probe.api_key = staged_value(store, "petswipe/local/api-key", CURRENT).get_secret_value()
        issued = httpx.post(f"{sandbox.router_url}/auth/token", json={"user_id": 7}, timeout=5)
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
    assert _server_user(sandbox) == creds.username
    # the token signed before the jwt rotation (now AWSPREVIOUS) still verifies; the old
    # API key (AWSPREVIOUS) too, while a made-up one is refused
    verify = httpx.get(
        f"{sandbox.router_url}/auth/verify",
        headers={"Authorization": f"Bearer {probe.token}"},
        timeout=5,
    )
    assert verify.status_code == 200
    wrong = httpx.get(f"{sandbox.router_url}/api/pets", headers={"X-API-Key": "made-up"}, timeout=5)
    assert wrong.status_code == 401
    mode = stat.S_IMODE(local_store_path("local").stat().st_mode)
    assert mode == 0o600
    records = list((sandbox.run_dir / "rotations").glob("*.json"))
    assert len(records) == 7
    for path in records:
        assert creds.password.get_secret_value() not in path.read_text()
    assert creds.password.get_secret_value() not in rotated.stdout + rotated.stderr


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.value)
def test_a_failure_at_any_step_leaves_the_current_secret_working(make_project, step):
    project = make_project()
    sandbox = _sandbox(project)
    config = sandbox.config
    store = LocalSecretStore(local_store_path("local"))
    name = "petswipe/local/db-credentials"
    rotation_for(config, SecretKind.DB).run()
    before = store.stages(name)
    current = staged_value(store, name, CURRENT)

    with pytest.raises(RotationFailed) as failed:
        rotation_for(config, SecretKind.DB).run(fault=step)

    assert f"failed at {step.value}" in str(failed.value)
    assert "AWSCURRENT is unchanged" in str(failed.value)
    assert staged_value(store, name, CURRENT).get_secret_value() == current.get_secret_value()
    assert store.version_id(name, CURRENT) == next(v for v, s in before.items() if CURRENT in s)
    with psycopg.connect(DbCredentials.load(current).conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM pets").fetchone()[0] >= 0
    assert httpx.get(f"{sandbox.router_url}/api/pets", timeout=5).status_code == 200
    record = RotationLedger(sandbox.run_dir / "rotations").unfinished(name)
    assert record.outcome == "failed" and record.steps[-1].step is step

    resumed = rotation_for(config, SecretKind.DB).run()

    assert resumed.resumed is (step is not Step.CREATE or store.version_id(name, PENDING) is None)
    assert store.version_id(name, CURRENT) == resumed.rotation_id
    assert staged_value(store, name, PREVIOUS).get_secret_value() == current.get_secret_value()
    assert store.version_id(name, PENDING) is None
    assert json.loads(staged_value(store, name, CURRENT).get_secret_value())["username"] != (
        DbCredentials.load(current).username
    )
