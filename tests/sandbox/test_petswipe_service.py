"""The reference service as a real process on a migrated SQLite database."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event

from petswipe_ops import http_client, migrations

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "sandbox" / "petswipe_service.py"
MIGRATIONS = ROOT / "migrations"
FAULT_VARS = (
    "PETSWIPE_FAULT_ERROR_RATE",
    "PETSWIPE_FAULT_LATENCY_MS",
    "PETSWIPE_FAULT_CLIENT_ERROR_RATE",
    "PETSWIPE_API_KEY",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command(database_url: str, port: int, version: str) -> list[str]:
    return [
        sys.executable,
        str(SERVICE),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--version",
        version,
        "--database-url",
        database_url,
    ]


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FAULT_VARS}
    return {**env, **(extra or {})}


@contextmanager
def service_process(
    database_url: str, version: str = "1.0.0", env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], httpx.Client]]:
    """Start the service, wait until /health answers, and always stop it afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        _command(database_url, port, version),
        env=_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    client = http_client.client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                pytest.fail(f"service exited early: {proc.stderr.read() if proc.stderr else ''}")
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("service did not become healthy within 20 s")
            time.sleep(0.05)
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


@contextmanager
def running_service(
    database_url: str, version: str = "1.0.0", env: dict[str, str] | None = None
) -> Iterator[httpx.Client]:
    with service_process(database_url, version, env) as (_proc, client):
        yield client


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "petswipe.db"
    migrations.upgrade(f"sqlite:///{path}", MIGRATIONS)
    return path


@pytest.fixture
def db_url(template_db: Path, tmp_path: Path) -> str:
    copy = tmp_path / "petswipe.db"
    shutil.copyfile(template_db, copy)
    return f"sqlite:///{copy}"


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, whatever the label order."""
    for line in metrics.splitlines():
        match = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2]))
        if found == labels:
            return float(match[3])
    raise AssertionError(f"no sample {name}{labels} in metrics")


def test_endpoints_and_metrics(db_url: str) -> None:
    with running_service(db_url, version="2.3.4") as client:
        assert client.get("/health").json() == {"status": "ok", "version": "2.3.4"}
        assert client.get("/version").json() == {"version": "2.3.4"}

        pets = client.get("/api/pets", params={"limit": 5}).json()["pets"]
        assert [p["id"] for p in pets] == [1, 2, 3, 4, 5]
        assert set(pets[0]) >= {"name", "species", "breed", "age_months", "shelter"}
        assert client.get("/api/pets/7").json()["id"] == 7
        assert client.get("/api/pets/999").status_code == 404
        assert client.get("/api/pets", params={"limit": "x"}).status_code == 400

        like = client.post("/api/swipes", json={"user_id": 3, "pet_id": 9, "direction": "like"})
        assert like.status_code == 201 and like.json()["matched"] is True
        swipe = {"user_id": 3, "pet_id": 10, "direction": "pass"}
        assert client.post("/api/swipes", json=swipe).status_code == 201
        bad = client.post("/api/swipes", json={"user_id": 3, "pet_id": 9, "direction": "meh"})
        assert bad.status_code == 400
        missing = {"user_id": 3, "pet_id": 999, "direction": "like"}
        assert client.post("/api/swipes", json=missing).status_code == 404
        matches = client.get("/api/matches", params={"user_id": 3}).json()["matches"]
        assert [m["pet_id"] for m in matches] == [9]

        response = client.get("/metrics")
        assert response.status_code == 200
        text = response.text

    assert _sample(text, "petswipe_build_info", version="2.3.4") == 1
    assert _sample(text, "petswipe_http_requests_total", code="200", route="/api/pets") == 1
    assert _sample(text, "petswipe_http_requests_total", code="400", route="/api/pets") == 1
    assert _sample(text, "petswipe_http_requests_total", code="404", route="/api/pets/{id}") == 1
    assert _sample(text, "petswipe_http_requests_total", code="201", route="/api/swipes") == 2
    assert _sample(text, "petswipe_http_requests_total", code="200", route="/api/matches") == 1
    count = "petswipe_http_request_duration_seconds_count"
    assert _sample(text, count, route="/api/swipes") == 4
    bucket = "petswipe_http_request_duration_seconds_bucket"
    assert _sample(text, bucket, le="10.0", route="/api/pets/{id}") == 2
    assert 'route="/health"' not in text and 'route="/metrics"' not in text


def test_api_key_is_required_when_set(db_url: str) -> None:
    with running_service(db_url, env={"PETSWIPE_API_KEY": "k-123"}) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/api/pets").status_code == 401
        assert client.get("/api/pets", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/api/pets", headers={"X-API-Key": "k-123"}).status_code == 200
        text = client.get("/metrics").text
    assert _sample(text, "petswipe_http_requests_total", code="401", route="/api/pets") == 2


def test_error_fault_answers_500_and_is_counted(db_url: str) -> None:
    with running_service(db_url, env={"PETSWIPE_FAULT_ERROR_RATE": "1"}) as client:
        assert client.get("/health").status_code == 200
        assert [client.get("/api/pets/1").status_code for _ in range(5)] == [500] * 5
        text = client.get("/metrics").text
    assert _sample(text, "petswipe_http_requests_total", code="500", route="/api/pets/{id}") == 5


def test_client_error_fault_answers_401_to_that_share_of_api_requests(db_url: str) -> None:
    with running_service(db_url, env={"PETSWIPE_FAULT_CLIENT_ERROR_RATE": "1"}) as client:
        assert client.get("/health").status_code == 200
        assert [client.get("/api/pets").status_code for _ in range(4)] == [401] * 4
        text = client.get("/metrics").text
    assert _sample(text, "petswipe_http_requests_total", code="401", route="/api/pets") == 4


def test_latency_fault_shows_in_histogram(db_url: str) -> None:
    with running_service(db_url, env={"PETSWIPE_FAULT_LATENCY_MS": "120"}) as client:
        for _ in range(3):
            assert client.get("/api/pets").status_code == 200
        text = client.get("/metrics").text
    bucket = "petswipe_http_request_duration_seconds_bucket"
    assert _sample(text, bucket, le="0.1", route="/api/pets") == 0
    assert _sample(text, bucket, le="0.25", route="/api/pets") == 3
    assert _sample(text, "petswipe_http_request_duration_seconds_sum", route="/api/pets") >= 0.36


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("PETSWIPE_FAULT_ERROR_RATE", "1.5"),
        ("PETSWIPE_FAULT_LATENCY_MS", "slow"),
        ("PETSWIPE_FAULT_CLIENT_ERROR_RATE", "-0.1"),
    ],
)
def test_bad_fault_value_exits_2_with_a_sentence(db_url: str, var: str, value: str) -> None:
    result = subprocess.run(
        _command(db_url, _free_port(), "1.0.0"),
        env=_env({var: value}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and var in lines[0] and lines[0].endswith(".")


def test_missing_tables_exit_with_a_hint(tmp_path: Path) -> None:
    result = subprocess.run(
        _command(f"sqlite:///{tmp_path / 'empty.db'}", _free_port(), "1.0.0"),
        env=_env(None),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "run the migrations" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sigterm_stops_cleanly(db_url: str) -> None:
    with service_process(db_url, version="3.0.0") as (proc, client):
        assert client.get("/api/pets").status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        stderr = proc.stderr.read() if proc.stderr else ""
    assert "3.0.0" in stderr and "listening" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_sigterm_lets_the_requests_in_flight_finish_and_refuses_new_ones(db_url: str) -> None:
    """What a version being retired does during a release's traffic move: the answer the
    router is waiting for still arrives, and its next connection is refused (so HAProxy
    sends it to the other server) instead of being accepted and dropped."""
    with service_process(db_url, env={"PETSWIPE_FAULT_LATENCY_MS": "1500"}) as (proc, client):
        answers: list[int] = []
        slow = threading.Thread(target=lambda: answers.append(client.get("/api/pets").status_code))
        slow.start()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.ConnectError):
            http_client.get(f"{client.base_url}/version", timeout=2)
        slow.join(timeout=10)
        assert answers == [200]
        assert proc.wait(timeout=10) == 0


def _service_module():
    spec = importlib.util.spec_from_file_location("petswipe_service_under_test", SERVICE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_retired_engine_closes_the_connection_a_request_still_held(db_url: str) -> None:
    """After a credential swap, a connection checked out of the old engine is closed once its
    request returns it, instead of idling in the discarded pool under the old role."""
    service = _service_module()
    old = service.make_engine(db_url)
    closed: list[object] = []
    event.listen(old.pool, "close", lambda dbapi_conn, _record: closed.append(dbapi_conn))
    idle = old.connect()
    idle.close()
    in_flight = old.connect()
    in_flight_dbapi = in_flight.connection.dbapi_connection
    retiring = threading.Thread(target=service.retire_engine, args=(old,))
    retiring.start()
    time.sleep(0.3)
    assert retiring.is_alive(), "the old pool was closed while a request still held it"
    in_flight.close()
    retiring.join(timeout=5)
    assert not retiring.is_alive()
    assert in_flight_dbapi in closed
    assert old.pool.checkedout() == 0
