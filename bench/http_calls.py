"""Benchmark: CPU per HTTP call, `httpx.get` against `petswipe_ops.http_client.get`.

The canary gate reads both versions' /metrics several times a second and health checks
poll, so the cost of one call is paid thousands of times per release. `httpx.get` builds a
client, and with it a TLS context that loads the whole certificate store, on every call,
even for plain http; `http_client.get` reuses one context per process. Both make the same
request to a local server on a fresh connection, in the same run; the figure is the ratio.

Run: uv run python bench/http_calls.py   (a few seconds)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from petswipe_ops import http_client

CALLS = 100


class Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"petswipe_http_requests_total 1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def cpu_per_call(get: Callable[..., httpx.Response], url: str) -> float:
    """Process CPU seconds per call (this process only: the server thread's share is the
    same for both, and small)."""
    get(url, timeout=5)
    started = time.process_time()
    for _ in range(CALLS):
        assert get(url, timeout=5).status_code == 200
    return (time.process_time() - started) / CALLS


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        baseline = cpu_per_call(httpx.get, url)
        shared = cpu_per_call(http_client.get, url)
    finally:
        server.shutdown()
    print(f"{CALLS} GETs of a local /metrics, CPU per call:")
    print(f"  httpx.get (a TLS context per call)      {baseline * 1000:8.2f} ms")
    print(f"  http_client.get (one context)           {shared * 1000:8.2f} ms")
    print(f"  ratio                                   {baseline / shared:8.1f}x less CPU")
    reads = 2 * 45 / 0.2  # both versions, every 0.2 s, for a 45 s step
    print(
        f"  one 45 s canary step's metric reads: "
        f"{baseline * reads:.1f} s of CPU before, {shared * reads:.1f} s after"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
