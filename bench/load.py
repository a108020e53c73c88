"""Benchmark: what the k6 wrapper achieves against the sandbox, and what it costs.

1. Achieved request rate versus the target arrival rate at 50, 100 and 200 requests/s:
   the smoke script (5 requests/s at full scale) run through the wrapper with
   RATE_SCALE 10, 20 and 40 for its 10 s floor, against a sandbox in a scratch project
   on free ports. "k6 rps" is k6's own count over the run; "served rps" is what the
   stable version's Prometheus counter grew by, divided by the same time.
2. The wrapper's overhead against the bare binary, in the same run: wall time of the
   same short script via the wrapper (k6 inspect for the timeout, streamed progress,
   summary parsing) over `k6 run` started directly; the time from starting k6 to its
   first request (at a local counting server); and the summary parsing time.

Run: uv run python bench/load.py   (about a minute and a half on 2 cores)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.k6 import k6_command
from petswipe_ops.loadtest.runner import K6Runner
from petswipe_ops.platform.local.sandbox import LocalSandbox
from tests.conftest import Project, _stop_sandboxes

TARGETS = (50, 100, 200)
SMOKE_RATE = 5
REQUESTS = re.compile(r"^petswipe_http_requests_total\{.*\} ([0-9.e+]+)$", re.M)


class FirstRequest(BaseHTTPRequestHandler):
    first_at: float | None = None

    def do_GET(self):
        if type(self).first_at is None:
            type(self).first_at = time.monotonic()
        body = b'{"pets": [], "id": 1, "matches": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


def served(sandbox: LocalSandbox) -> float:
    stable = sandbox.services.instance("stable")
    text = http_client.get(stable.endpoint + "/metrics", timeout=5).text
    return sum(float(v) for v in REQUESTS.findall(text))


def rate_runs(project: Project, work: Path) -> list[dict]:
    config = load_environment("local", project.root)
    sandbox = LocalSandbox(config)
    sandbox.up()
    script = project.root / "load_tests" / "smoke.js"
    rows = []
    for target in TARGETS:
        before = served(sandbox)
        runner = K6Runner(
            script,
            env={
                "BASE_URL": sandbox.router_url,
                "SCALE": "0.01",
                "RATE_SCALE": str(target / SMOKE_RATE),
            },
            summary_path=work / f"rate-{target}.json",
            log_path=work / f"rate-{target}.log",
        )
        result = runner.run()
        summary = result.summary
        server_side = (served(sandbox) - before) / summary.duration_s
        rows.append(
            {
                "target_rps": target,
                "k6_rps": round(summary.rps, 1),
                "served_rps": round(server_side, 1),
                "ratio": round(summary.rps / target, 3),
                "dropped": summary.dropped_iterations,
                "p95_ms": round(summary.latency.p95, 1),
                "outcome": result.outcome.value,
            }
        )
    return rows


def overhead(work: Path, script: Path) -> dict:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FirstRequest)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    env = {"BASE_URL": f"http://127.0.0.1:{httpd.server_address[1]}", "SCALE": "0.01"}
    try:
        bare_started = time.monotonic()
        subprocess.run(
            k6_command(script, {}, quiet=False),
            env={**os.environ, **env, "SUMMARY_PATH": str(work / "bare.json")},
            capture_output=True,
            timeout=120,
            check=False,
        )
        bare = time.monotonic() - bare_started
        FirstRequest.first_at = None
        runner = K6Runner(
            script, env=env, summary_path=work / "wrapped.json", log_path=work / "wrapped.log"
        )
        wrapped_started = time.monotonic()
        result = runner.run()
        wrapped = time.monotonic() - wrapped_started
        first = FirstRequest.first_at - runner.started_at
    finally:
        httpd.shutdown()
    return {
        "bare_s": round(bare, 2),
        "wrapped_s": round(wrapped, 2),
        "wrapper_ratio": round(wrapped / bare, 3),
        "inspect_s": round(result.inspect_seconds, 3),
        "start_to_first_request_s": round(first, 3),
        "summary_parse_ms": round(result.parse_seconds * 1000, 2),
    }


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="petswipe-bench-") as tmp:
        project = Project(Path(tmp) / "root")
        for key, value in project.env().items():
            os.environ[key] = value
        work = Path(tmp) / "work"
        try:
            rows = rate_runs(project, work)
            cost = overhead(work, project.root / "load_tests" / "smoke.js")
        finally:
            _stop_sandboxes(project)
    print("Achieved rate through the wrapper (smoke script, 10 s per rate, sandbox via HAProxy)")
    header = ("target rps", "k6 rps", "served rps", "ratio", "dropped", "p95 ms")
    print(" ".join(f"{h:>10}" for h in header) + "  outcome")
    for r in rows:
        cells = (
            r["target_rps"],
            r["k6_rps"],
            r["served_rps"],
            r["ratio"],
            r["dropped"],
            r["p95_ms"],
        )
        print(" ".join(f"{c:>10}" for c in cells) + f"  {r['outcome']}")
    print()
    print("Wrapper overhead (same 10 s smoke script at a local counting server)")
    print(
        f"  bare k6 run {cost['bare_s']} s, through the wrapper {cost['wrapped_s']} s "
        f"(ratio {cost['wrapper_ratio']}); k6 inspect {cost['inspect_s']} s"
    )
    print(
        f"  k6 start to first request {cost['start_to_first_request_s']} s; "
        f"summary parsing {cost['summary_parse_ms']} ms"
    )
    print(f"\nran in {time.monotonic() - started:.0f} s")
    print(json.dumps({"rates": rows, "overhead": cost}))


if __name__ == "__main__":
    main()
