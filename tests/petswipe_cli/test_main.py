"""The command line as a user runs it: a real process, real sandbox, one-sentence errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox


def cli(project, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **project.env(), **env}
    environment["PREFECT_HOME"] = str(project.root / ".prefect")
    environment.pop("PREFECT_API_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "petswipe_cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )


def snapshot(project) -> dict:
    """What a user would look at to see whether anything changed."""
    sandbox = LocalSandbox(load_environment("local", project.root))
    status = sandbox.status()
    releases = sandbox.run_dir / "releases"
    return {
        "weights": status.weights,
        "versions": [(v.role, v.version, v.handle) for v in status.versions],
        "records": sorted(p.name for p in releases.glob("*.json")) if releases.exists() else [],
        "tf_state": (sandbox.run_dir / "terraform" / "terraform.tfstate").exists(),
    }


@pytest.fixture
def running(make_project):
    project = make_project()
    LocalSandbox(load_environment("local", project.root)).up()
    return project


def _broken_yaml(project):
    path = project.root / "deployments" / "local.yaml"
    path.write_text(path.read_text().replace("min_requests: 150", "min_requests: many"))
    return {}


def _no_auto_approval(project):
    path = project.root / "deployments" / "local.yaml"
    path.write_text(path.read_text().replace("allow_auto: true", "allow_auto: false"))
    return {}


BAD_INPUTS = {
    "auto-approval not allowed": (
        ["--env", "local", "--version", "1.2.0"],
        _no_auto_approval,
        "need a person's approval (approval.allow_auto is false",
    ),
    "unknown environment": (
        ["--env", "qa", "--version", "1.2.0"],
        lambda project: {},
        "unknown environment 'qa'",
    ),
    "malformed version": (
        ["--env", "local", "--version", "1.2"],
        lambda project: {},
        "'version' is invalid: '1.2' is not a semantic version",
    ),
    "broken local.yaml": (
        ["--env", "local", "--version", "1.2.0"],
        _broken_yaml,
        "local.yaml: field 'canary.min_requests' is invalid",
    ),
    "spent error budget": (
        ["--env", "local", "--version", "1.2.0", "--error-budget", "0"],
        lambda project: {},
        "The error budget is spent, so the release is refused",
    ),
    "error budget out of range": (
        ["--env", "local", "--version", "1.2.0", "--error-budget", "1.5"],
        lambda project: {},
        "'error_budget_remaining' is invalid",
    ),
    "missing haproxy": (
        ["--env", "local", "--version", "1.2.0"],
        lambda project: {"PETSWIPE_HAPROXY_BIN": "/nonexistent/haproxy"},
        "haproxy was not found at /nonexistent/haproxy",
    ),
    "missing k6": (
        ["--env", "local", "--version", "1.2.0"],
        lambda project: {"PETSWIPE_K6_BIN": "/nonexistent/k6"},
        "k6 was not found at /nonexistent/k6",
    ),
    "missing terraform": (
        ["--env", "local", "--version", "1.2.0"],
        lambda project: {"PETSWIPE_TERRAFORM_BIN": "/nonexistent/terraform"},
        "terraform was not found at /nonexistent/terraform",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_sentence_a_nonzero_exit_and_no_change(running, case):
    args, prepare, expected = BAD_INPUTS[case]
    before = snapshot(running)
    config_file = running.root / "deployments" / "local.yaml"
    original = config_file.read_text()
    env = prepare(running)
    result = cli(running, "release", *args, "--auto-approve", timeout=60, **env)
    config_file.write_text(original)

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and expected in lines[0]
    assert lines[0].rstrip().endswith(".")
    assert "Traceback" not in result.stdout + result.stderr
    assert snapshot(running) == before


@pytest.mark.integration
def test_latency_fault_is_rolled_back_by_the_p95_gate(running):
    result = cli(
        running,
        "release",
        "--env",
        "local",
        "--version",
        "1.5.0",
        "--auto-approve",
        "--fault",
        "latency_ms=800",
    )

    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert "ROLLED BACK" in summary and "p95 latency" in summary
    sandbox = LocalSandbox(load_environment("local", running.root))
    assert sandbox.router.get_weights().model_dump() == {"stable": 100, "candidate": 0}
    assert [v.role for v in sandbox.services.running()] == ["stable"]


def test_sandbox_commands_start_report_and_stop(make_project):
    project = make_project()
    up = cli(project, "sandbox", "up", timeout=60)
    assert up.returncode == 0, up.stderr
    assert "weights: stable 100 / candidate 0" in up.stdout
    assert "stable: 1.0.0" in up.stdout

    down = cli(project, "sandbox", "down", timeout=60)
    assert down.returncode == 0, down.stderr
    status = cli(project, "sandbox", "status", timeout=60)
    assert "down" in status.stdout.splitlines()[0]
    assert "stable:" not in status.stdout
