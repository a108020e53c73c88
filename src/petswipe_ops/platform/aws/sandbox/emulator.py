"""EMULATED: the ALB data plane and the ECS tasks that moto does not have.

moto answers the AWS APIs (the listener, its weights, the services and task definitions)
but moves no traffic and runs no containers. This process stands in for that part, and only
that part, of the AWS sandbox:

- tasks: for each ECS service with a desired count, one local process of the reference
  service (sandbox/petswipe_service.py) running the task definition's image tag as its
  version, with the task definition's environment; it is registered as a target of the
  service's target group in moto, so target health and the adapters see it;
- listener: HTTP on 127.0.0.1, each request forwarded to the stable or canary group with the
  weights read from moto's listener every second (no healthy target: 503, like an ALB);
- metrics: every 10 s, per target group, RequestCount, HTTPCode_Target_4XX/5XX_Count and
  TargetResponseTime (a values/counts distribution) put into moto's CloudWatch under
  AWS/ApplicationELB, and a Prometheus file_sd list of the task processes labelled with
  their target group, for the sandbox's Prometheus (the `prometheus` metrics source).

Everything it decides comes from moto; it never changes the weights or the services.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from petswipe_ops import http_client
from petswipe_ops.paths import project_root
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.metrics import NAMESPACE
from petswipe_ops.platform.aws.outputs import StackOutputs, target_group_suffix
from petswipe_ops.platform.aws.sandbox.state import SANDBOX_CREDENTIALS
from petswipe_ops.platform.local.services import terminate
from petswipe_ops.ports import free_port

POLL_S = 1.0
METRICS_EVERY_S = 10.0
START_TIMEOUT_S = 20.0
MAX_VALUES_PER_DATUM = 150
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Task:
    """One emulated ECS task: a reference-service process for a task definition."""

    task_definition: str
    version: str
    port: int
    process: subprocess.Popen[bytes]
    registered: bool = False


@dataclass
class Window:
    """What the listener forwarded to one target group since the last metrics flush."""

    requests: int = 0
    errors_5xx: int = 0
    errors_4xx: int = 0
    latency_ms: Counter[int] = field(default_factory=Counter)


class Emulator:
    def __init__(self, moto_url: str, outputs: StackOutputs, state_dir: Path) -> None:
        self.clients = AwsClients(
            outputs.region, endpoint_url=moto_url, credentials=SANDBOX_CREDENTIALS
        )
        self.outputs = outputs
        self.state_dir = state_dir
        self.database_url = (state_dir / "database-url").read_text().strip()
        self.tasks: dict[str, Task] = {}
        self.weights: dict[str, int] = {outputs.stable_target_group_arn: 100}
        self.windows: dict[str, Window] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        # Every process this emulator spawned and has not stopped yet, also while it starts,
        # recorded in tasks.json so `down` finds them even if the emulator died.
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self._definitions: dict[str, dict[str, Any]] = {}

    # -- tasks ----------------------------------------------------------------------------

    def groups(self) -> dict[str, str]:
        """Target group ARN -> ECS service name."""
        return {
            self.outputs.stable_target_group_arn: self.outputs.stable_service,
            self.outputs.canary_target_group_arn: self.outputs.canary_service,
        }

    def definition(self, arn: str) -> dict[str, Any]:
        if arn not in self._definitions:
            ecs = self.clients("ecs")
            self._definitions[arn] = ecs.describe_task_definition(taskDefinition=arn)[
                "taskDefinition"
            ]
        return self._definitions[arn]

    def reconcile(self) -> None:
        """Make the local tasks match moto's services and read the listener's weights."""
        listener = self.clients("elbv2").describe_listeners(
            ListenerArns=[self.outputs.listener_arn]
        )
        forward = listener["Listeners"][0]["DefaultActions"][0].get("ForwardConfig", {})
        weights = {
            g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in forward.get("TargetGroups", [])
        }
        with self.lock:
            self.weights = weights
        described = self.clients("ecs").describe_services(
            cluster=self.outputs.cluster, services=list(self.groups().values())
        )["services"]
        by_name = {s["serviceName"]: s for s in described}
        for group, name in self.groups().items():
            service = by_name.get(name)
            wanted = service["taskDefinition"] if service and service["desiredCount"] > 0 else None
            current = self.tasks.get(group)
            if current and current.process.poll() is not None:
                self.retire(group, current)
                current = None
            if wanted and (current is None or current.task_definition != wanted):
                replacement = self.start_task(wanted)
                if replacement is None or self.stopping.is_set():
                    continue
                self.register(group, replacement)
                with self.lock:
                    self.tasks[group] = replacement
                if current:
                    self.retire(group, current)
            elif not wanted and current:
                with self.lock:
                    del self.tasks[group]
                self.retire(group, current)
        self.write_targets()

    def start_task(self, arn: str) -> Task | None:
        definition = self.definition(arn)
        container = definition["containerDefinitions"][0]
        version = container["image"].rsplit(":", 1)[-1]
        env = {e["name"]: e["value"] for e in container.get("environment", [])}
        port = free_port()
        logs = self.state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        script = project_root() / "sandbox" / "petswipe_service.py"
        with (logs / f"task-{definition['family']}-{definition['revision']}.log").open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(script),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--version",
                    version,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **env, "PETSWIPE_DATABASE_URL": self.database_url},
                start_new_session=True,
            )
        with self.lock:
            self.processes[process.pid] = process
        self.write_pids()
        task = Task(arn, version, port, process)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None and not self.stopping.is_set():
            try:
                if (
                    http_client.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code
                    == 200
                ):
                    return task
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop_process(process)
        return None

    def stop_process(self, process: subprocess.Popen[bytes]) -> None:
        terminate(process.pid)
        with self.lock:
            self.processes.pop(process.pid, None)
        self.write_pids()

    def write_pids(self) -> None:
        with self.lock:
            pids = sorted(self.processes)
        path = self.state_dir / "tasks.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pids))
        tmp.replace(path)

    def target(self, task: Task) -> dict[str, Any]:
        """Each task its own loopback address as its target Id, as ECS gives each task its own
        ENI address: moto keys a group's targets by Id alone, so with one shared Id the old
        task's deregistration would remove the replacement registered just before it."""
        return {"Id": f"127.0.{task.port >> 8}.{task.port & 255}", "Port": task.port}

    def register(self, group: str, task: Task) -> None:
        self.clients("elbv2").register_targets(TargetGroupArn=group, Targets=[self.target(task)])
        task.registered = True

    def retire(self, group: str, task: Task) -> None:
        if task.registered:
            self.clients("elbv2").deregister_targets(
                TargetGroupArn=group, Targets=[self.target(task)]
            )
        terminate(task.process.pid)

    def write_targets(self) -> None:
        """The Prometheus file_sd list: every task process, labelled with its target group."""
        with self.lock:
            entries = [
                {
                    "targets": [f"127.0.0.1:{task.port}"],
                    "labels": {"target_group": target_group_suffix(group), "version": task.version},
                }
                for group, task in self.tasks.items()
            ]
        path = self.state_dir / "prometheus-targets.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2))
        tmp.replace(path)

    # -- traffic --------------------------------------------------------------------------

    def pick(self) -> tuple[str, Task] | None:
        with self.lock:
            weights = {g: w for g, w in self.weights.items() if w > 0}
            if not weights:
                return None
            group = random.choices(list(weights), weights=list(weights.values()))[0]
            task = self.tasks.get(group)
        return (group, task) if task else None

    def record(self, group: str, status: int, ms: float) -> None:
        with self.lock:
            window = self.windows.setdefault(group, Window())
            window.requests += 1
            window.errors_5xx += 500 <= status < 600
            window.errors_4xx += 400 <= status < 500
            window.latency_ms[max(1, round(ms))] += 1

    def flush_metrics(self) -> None:
        """Put each target group's window into CloudWatch as the ALB would, then reset it."""
        with self.lock:
            windows, self.windows = self.windows, {}
        data = []
        for group, window in windows.items():
            dims = [
                {"Name": "TargetGroup", "Value": target_group_suffix(group)},
                {"Name": "LoadBalancer", "Value": self.outputs.load_balancer_arn_suffix},
            ]
            data += [
                {
                    "MetricName": "RequestCount",
                    "Dimensions": dims,
                    "Value": window.requests,
                    "Unit": "Count",
                },
                {
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Dimensions": dims,
                    "Value": window.errors_5xx,
                    "Unit": "Count",
                },
                {
                    "MetricName": "HTTPCode_Target_4XX_Count",
                    "Dimensions": dims,
                    "Value": window.errors_4xx,
                    "Unit": "Count",
                },
            ]
            latencies = sorted(window.latency_ms.items())
            for start in range(0, len(latencies), MAX_VALUES_PER_DATUM):
                chunk = latencies[start : start + MAX_VALUES_PER_DATUM]
                data.append(
                    {
                        "MetricName": "TargetResponseTime",
                        "Dimensions": dims,
                        "Values": [ms / 1000 for ms, _ in chunk],
                        "Counts": [float(n) for _, n in chunk],
                        "Unit": "Seconds",
                    }
                )
        for start in range(0, len(data), 500):
            self.clients("cloudwatch").put_metric_data(
                Namespace=NAMESPACE, MetricData=data[start : start + 500]
            )

    # -- running --------------------------------------------------------------------------

    def control_loop(self) -> None:
        last_flush = time.monotonic()
        while not self.stopping.is_set():
            try:
                self.reconcile()
                if time.monotonic() - last_flush >= METRICS_EVERY_S:
                    self.flush_metrics()
                    last_flush = time.monotonic()
            except Exception as exc:  # the loop must outlive one bad second
                print(f"emulator: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            self.stopping.wait(POLL_S)

    def shutdown(self) -> None:
        """Stop every spawned process, including one still starting in the control loop."""
        self.stopping.set()
        with self.lock:
            self.tasks = {}
            processes = list(self.processes.values())
        for process in processes:
            self.stop_process(process)


def handler_for(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Listener(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return None

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            chosen = emulator.pick()
            if chosen is None:
                self.reply(
                    503, b'{"error": "no healthy target"}', {"Content-Type": "application/json"}
                )
                return
            group, task = chosen
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", task.port, timeout=30)
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                status = response.status
                reply_headers = {
                    k: v for k, v in response.getheaders() if k.lower() not in HOP_HEADERS
                }
                connection.close()
            except OSError:
                status, payload, reply_headers = 502, b'{"error": "target unreachable"}', {}
            emulator.record(group, status, (time.perf_counter() - started) * 1000)
            self.reply(status, payload, reply_headers)

        def reply(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = forward

    return Listener


class ListenerServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="EMULATED ALB data plane of the AWS sandbox.")
    parser.add_argument("--moto-url", required=True)
    parser.add_argument("--outputs", required=True, type=Path)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args(argv)
    outputs = StackOutputs.model_validate_json(args.outputs.read_text())
    emulator = Emulator(args.moto_url, outputs, args.state_dir)
    server = ListenerServer(("127.0.0.1", args.port), handler_for(emulator))

    def stop(_signum: int, _frame: Any) -> None:
        emulator.stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    control = threading.Thread(target=emulator.control_loop, daemon=True)
    control.start()
    print(f"emulated listener on http://127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        emulator.shutdown()
        control.join(timeout=START_TIMEOUT_S + 5)
        emulator.shutdown()
        with contextlib.suppress(Exception):  # moto may already be gone at shutdown
            emulator.flush_metrics()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
