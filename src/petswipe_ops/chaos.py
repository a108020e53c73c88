"""Interrupt real sandbox releases at named points and check that the environment converges.

Each case starts `petswipe-ops release` (or `deploy-canary`) as a user would, waits for
its point (a stage running, or a hold point of `petswipe_ops.holds`), then sends SIGKILL,
SIGINT (to its process group, as a terminal's Ctrl-C does), SIGTERM or a Prefect cancel.
`petswipe-ops reconcile` follows, and the case passes when HAProxy reports stable 100 /
candidate 0 with its stable server on a live version, no candidate process is left, the
record is finished, and (for the finalize points) a probe sending requests through the
router the whole time saw no failed request.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import yaml
from pydantic import BaseModel

from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.holds import HOLD_ENV
from petswipe_ops.platform.local.haproxy import HaproxyRouter, HaproxyRuntime
from petswipe_ops.platform.local.services import alive
from petswipe_ops.ports import free_ports
from petswipe_ops.record import Outcome, ReleaseLedger

CONVERGE_WITHIN_SECONDS = 90.0
POINT_TIMEOUT_SECONDS = 240.0
SIGNALS = ("SIGKILL", "SIGINT", "SIGTERM", "cancel")
SLOW_MIGRATION = "0099_slow_backfill.py"


class Point(BaseModel):
    """Where to interrupt: a hold point's name, or a stage seen running in the record; and
    the outcome an interruption there must end in (the release is undone unless finalize
    had already sent users to the candidate)."""

    name: str
    hold: str | None = None
    stage: str | None = None
    fault: str | None = None
    slow_migration: bool = False
    full_release: bool = True
    outcome: Outcome = Outcome.ROLLED_BACK


POINTS = {
    p.name: p
    for p in (
        Point(name="after plan", hold="stage:plan:done"),
        Point(name="after apply", hold="apply:done"),
        Point(name="mid-migration", stage="migrate", slow_migration=True),
        Point(name="at 10 %", stage="canary 10%"),
        Point(name="at 50 %", stage="canary 50%"),
        Point(name="before the router switch", hold="switch-stable:intent"),
        Point(name="after the router switch", hold="switch-stable:done", outcome=Outcome.PROMOTED),
        Point(name="during rollback", hold="rollback:intent", fault="error_rate=0.2"),
    )
}
FINALIZE_POINTS = ("before the router switch", "after the router switch")


class CaseResult(BaseModel):
    point: str
    signal: str
    converged: bool
    seconds: float
    failed_requests: int
    probe_requests: int
    outcome: str
    problems: list[str]
    next_release: str | None = None


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Probe:
    """Requests through the router every 20 ms, counting the ones that fail."""

    def __init__(self, url: str) -> None:
        self.url, self.sent, self.failed = url, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        with http_client.client(timeout=5.0) as client:
            while not self._stop.is_set():
                try:
                    ok = client.get(self.url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.sent += 1
                self.failed += not ok
                self._stop.wait(0.02)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class ChaosRunner:
    """Runs cases against one project root whose local sandbox is already up."""

    def __init__(self, env: dict[str, str], root: Path, environment: str = "local") -> None:
        self.env, self.root, self.environment = env, root, environment
        self.config = load_environment(environment, root)
        run_root = Path(env.get("PETSWIPE_RUN_DIR") or root / ".sandbox")
        self.run_dir = run_root / environment
        self.book = ReleaseLedger(self.run_dir / "releases")
        local = self.config.local
        assert local is not None, "chaos cases run on the local sandbox"
        self.router_url = f"http://127.0.0.1:{local.router_port}"
        self.router = HaproxyRouter(HaproxyRuntime(self.run_dir / "haproxy.sock"))
        self._minor = 0
        self._last_version = ""

    def cli(self, *args: str, extra: dict[str, str] | None = None, **popen) -> subprocess.Popen:
        """The CLI as a shell in a terminal starts it: in a process group of its own, which
        a case's Ctrl-C signals as a whole, and with SIGINT at its default even when this
        runner was started in the background (which ignores SIGINT, and a child keeps an
        ignored signal ignored), so a case's Ctrl-C is a real one."""
        return subprocess.Popen(
            [sys.executable, "-m", "petswipe_cli.main", *args],
            env={**self.env, **(extra or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_default_sigint,
            process_group=0,
            **popen,
        )

    def _version(self) -> str:
        self._minor += 1
        self._last_version = f"7.{self._minor}.{int(time.time()) % 1000}"
        return self._last_version

    def run(
        self, point_name: str, how: str, *, next_release: bool = False, attempts: int = 2
    ) -> CaseResult:
        """One case; a release the gate ended before it reached the point (a slow, loaded
        host rolls a healthy candidate back now and then) is tried again, up to `attempts`."""
        for _ in range(attempts):
            result = self._run_once(point_name, how, next_release=next_release)
            if result.outcome != "not reached":
                return result
        return result

    def _run_once(self, point_name: str, how: str, *, next_release: bool) -> CaseResult:
        point = POINTS[point_name]
        slow = self.root / "migrations" / "versions" / SLOW_MIGRATION
        if point.slow_migration:
            slow.write_text(_slow_migration(self._heads()))
        version = self._version()
        command = "release" if point.full_release else "deploy-canary"
        args = [command, "--env", self.environment, "--version", version, "--auto-approve"]
        if point.fault:
            args += ["--fault", point.fault]
        hold = {HOLD_ENV: point.hold} if point.hold else {}
        (self.run_dir / "hold").unlink(missing_ok=True)
        problems: list[str] = []
        with Probe(f"{self.router_url}/version") as probe:
            process = self.cli(*args, extra=hold)
            output: list[str] = []
            reader = threading.Thread(target=_drain, args=(process, output), daemon=True)
            reader.start()
            try:
                self._wait_for(point, version, process)
            except TimeoutError as exc:
                process.kill()
                reader.join(timeout=10)
                record = self._record(version)
                why = record.reason if record else "".join(output[-20:])
                return self._failed(point_name, how, f"{exc}: {why}")
            struck = time.monotonic()
            problems += self._strike(process, how, version, output)
            try:
                process.wait(timeout=CONVERGE_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                problems.append("the interrupted release did not exit")
                process.kill()
            reader.join(timeout=10)
            slow.unlink(missing_ok=True)
            done = subprocess.run(
                [sys.executable, "-m", "petswipe_cli.main", "reconcile", "--env", self.environment],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=CONVERGE_WITHIN_SECONDS,
                check=False,
            )
            seconds = time.monotonic() - struck
            if done.returncode != 0:
                problems.append(f"reconcile exited {done.returncode}: {done.stderr.strip()}")
            problems += self._check(version, point)
        if seconds > CONVERGE_WITHIN_SECONDS:
            problems.append(f"converged only after {seconds:.0f} s")
        if point_name in FINALIZE_POINTS and probe.failed:
            problems.append(f"{probe.failed} user requests failed")
        record = self._record(version)
        result = CaseResult(
            point=point_name,
            signal=how,
            converged=not problems,
            seconds=round(seconds, 1),
            failed_requests=probe.failed,
            probe_requests=probe.sent,
            outcome=record.outcome.value if record else "no record",
            problems=problems,
        )
        if next_release:
            result.next_release = self.next_release()
            if result.next_release != "promoted":
                result.converged = False
                record = self._record(self._last_version)
                why = f": {record.reason}" if record and record.reason else ""
                result.problems.append(f"the next release ended {result.next_release}{why}")
        return result

    def next_release(self) -> str:
        version = self._version()
        process = self.cli(
            "deploy-canary", "--env", self.environment, "--version", version, "--auto-approve"
        )
        out, _ = process.communicate(timeout=POINT_TIMEOUT_SECONDS)
        record = self._record(version)
        return record.outcome.value if record else f"no record ({out.strip()[-200:]})"

    def _wait_for(self, point: Point, version: str, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + POINT_TIMEOUT_SECONDS
        hold_file = self.run_dir / "hold"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise TimeoutError(f"the release exited ({process.returncode}) before {point.name}")
            if (
                point.hold
                and hold_file.is_file()
                and hold_file.read_text().split()[0] == point.hold
            ):
                return
            if point.stage:
                record = self._record(version)
                stage = record.stage(point.stage) if record else None
                if stage is not None and stage.status == "running":
                    time.sleep(1.0)
                    return
            time.sleep(0.05)
        raise TimeoutError(
            f"the release did not reach {point.name} within {POINT_TIMEOUT_SECONDS} s"
        )

    def _strike(
        self, process: subprocess.Popen, how: str, version: str, output: list[str]
    ) -> list[str]:
        """Interrupt the release `how` the case says; a problem when that was not possible."""
        if how == "SIGINT":
            os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole group
            return []
        if how != "cancel":
            process.send_signal(getattr(signal, how))
            return []
        record = self._record(version)
        api = _api_url("".join(output))
        if record is None or record.flow_run_id is None or api is None:
            process.send_signal(signal.SIGTERM)
            return ["no flow run to cancel (no run id or server URL yet): sent SIGTERM instead"]
        http_client.post(
            f"{api}/flow_runs/{record.flow_run_id}/set_state",
            json={"state": {"type": "CANCELLING", "name": "Cancelling"}, "force": True},
            timeout=30,
        ).raise_for_status()
        return []

    def _record(self, version: str):
        return next((r for r in reversed(self.book.all()) if r.version == version), None)

    def _check(self, version: str, point: Point) -> list[str]:
        problems = []
        state = self.router.state()
        if state.weights.model_dump() != {"stable": 100, "candidate": 0}:
            problems.append(f"router at {state.weights}")
        services = json.loads((self.run_dir / "services.json").read_text())
        roles = {role: entry for role, entry in services.items() if alive(entry["pid"])}
        if set(roles) != {"stable"}:
            problems.append(f"processes left: {sorted(roles)}")
        stable = roles.get("stable")
        if stable is None or state.stable_target != f"http://127.0.0.1:{stable['port']}":
            problems.append("the stable server does not point at the live stable version")
        record = self._record(version)
        if record is None or record.outcome is Outcome.RUNNING:
            problems.append("the record is not finished")
        elif record.outcome is not point.outcome:
            problems.append(f"the release ended {record.outcome.value}, not {point.outcome.value}")
        return problems

    def _heads(self) -> str:
        versions = sorted((self.root / "migrations" / "versions").glob("0*.py"))
        names = [p for p in versions if p.name != SLOW_MIGRATION]
        found = re.search(r'^revision[^=]*=\s*"([^"]+)"', names[-1].read_text(), re.MULTILINE)
        return found.group(1) if found else ""

    def _failed(self, point: str, how: str, problem: str) -> CaseResult:
        return CaseResult(
            point=point,
            signal=how,
            converged=False,
            seconds=0,
            failed_requests=0,
            probe_requests=0,
            outcome="not reached",
            problems=[problem],
        )


def _drain(process: subprocess.Popen, into: list[str]) -> None:
    for line in process.stdout or ():
        into.append(line)


def _api_url(output: str) -> str | None:
    found = re.search(r"View at (http://127\.0\.0\.1:\d+)/runs/flow-run/", output)
    return f"{found.group(1)}/api" if found else None


def _slow_migration(down_revision: str) -> str:
    return f'''"""A slow backfill: long enough to be interrupted half way."""

import time

import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("chaos_backfill", sa.Column("id", sa.Integer, primary_key=True))
    time.sleep(20)


def downgrade() -> None:
    op.drop_table("chaos_backfill")
'''


def render_table(results: list[CaseResult]) -> str:
    lines = [
        "| point | signal | converged | seconds | failed / probe requests | outcome "
        "| next release |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        mark = "yes" if r.converged else "NO: " + "; ".join(r.problems)[:300]
        lines.append(
            f"| {r.point} | {r.signal} | {mark} | {r.seconds:.1f} | "
            f"{r.failed_requests} / {r.probe_requests} | {r.outcome} | {r.next_release or '—'} |"
        )
    return "\n".join(lines)


def default_cases(bounded: bool) -> list[tuple[str, str]]:
    """Every point under SIGKILL plus each signal at 10 % and 50 %; or CI's bounded set:
    the finalize points under SIGKILL and one case of each other signal."""
    if bounded:
        return [
            ("before the router switch", "SIGKILL"),
            ("after the router switch", "SIGKILL"),
            ("at 50 %", "SIGINT"),
            ("at 10 %", "SIGTERM"),
            ("at 50 %", "cancel"),
        ]
    cases = [(name, "SIGKILL") for name in POINTS]
    cases += [(p, s) for s in ("SIGINT", "SIGTERM", "cancel") for p in ("at 10 %", "at 50 %")]
    return cases


def relax_latency_slo(data: dict) -> None:
    """Loosen an environment's latency SLOs and its tolerance against the stable (errors
    are still gated as usual) for runs that interrupt or route releases rather than judge
    them: a loaded host's slow replies must not roll a healthy candidate back before the
    point under test."""
    data["slo"].update(p50_ms=2000, p95_ms=5000, p99_ms=10000)
    sequential = data["canary"].setdefault("sequential", {})
    sequential.update(latency_tolerance_ms=1000, latency_tolerance_ratio=5)


def interrupt_only(data: dict) -> None:
    """The cases interrupt releases, they do not judge them: latency SLOs a loaded host
    cannot breach, and the threshold gate over 60 requests, so every step lasts its 10 s
    bake time at 80 requests a second. The probe's requests come on top; together they
    stay well inside what one reference-service process answers on a busy two-core host,
    so a failed probe request means a routing fault, not a saturated service."""
    relax_latency_slo(data)
    data["canary"].update(gate="threshold", min_requests=60, traffic_rate=80)


def scratch_root(base: Path, source: Path) -> tuple[Path, dict[str, str]]:
    """A throwaway project root on free ports (its own deployments, migrations, run
    folder and Prefect home) with `interrupt_only`'s settings, so the cases never touch a
    user's own sandbox."""
    root = base / "root"
    root.mkdir(parents=True)
    for name in ("sandbox", "policies", "terraform", "load_tests"):
        (root / name).symlink_to(source / name)
    for name in ("migrations", "deployments"):
        shutil.copytree(source / name, root / name)
    path = root / "deployments" / "local.yaml"
    data = yaml.safe_load(path.read_text())
    router, stable, candidate, database = free_ports(4)
    data["local"].update(router_port=router, service_ports=[stable, candidate])
    if data["local"].get("postgres"):
        data["local"]["postgres"]["port"] = database
    interrupt_only(data)
    path.write_text(yaml.safe_dump(data))
    env = {**os.environ, "PETSWIPE_ROOT": str(root), "PETSWIPE_RUN_DIR": str(base / "run")}
    env["PREFECT_HOME"] = str(base / "prefect")
    env.pop("PREFECT_API_URL", None)
    return root, env
