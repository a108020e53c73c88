"""`petswipe-ops load-test` as a user runs it: a real process, the real sandbox and k6."""

from __future__ import annotations

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.platform.local.sandbox import LocalSandbox
from tests.petswipe_cli.test_main import cli


@pytest.mark.integration
def test_a_latency_faulted_candidate_fails_the_load_p95_threshold(make_project):
    project = make_project()
    result = cli(
        project,
        "load-test",
        "--env",
        "local",
        "--scenario",
        "load",
        "--scale",
        "0.02",
        "--version",
        "9.9.9",
        "--fault",
        "latency_ms=800",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
    )

    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "the local sandbox was not running; started it" in output
    verdict = result.stdout.strip().splitlines()[-1]
    assert verdict.startswith("load tests failed: load: thresholds")
    assert "http_req_duration p(95)<500" in verdict
    assert "| load | ❌ thresholds" in result.stdout
    sandbox = LocalSandbox(load_environment("local", project.root))
    assert [v.role for v in sandbox.services.running()] == ["stable"]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--scenario", "soakk"], {}, "load-test parameter 'scenarios.0' is invalid"),
        (["--fault", "latency_ms=800"], {}, "a fault is injected into a candidate; name its"),
        (["--env", "qa"], {}, "unknown environment 'qa'"),
        ([], {"PETSWIPE_K6_BIN": "/nonexistent/k6"}, "k6 was not found at /nonexistent/k6"),
    ],
    ids=["unknown scenario", "fault without version", "unknown env", "no k6"],
)
def test_bad_input_is_one_sentence_and_starts_nothing(make_project, args, env, expected):
    project = make_project()
    result = cli(project, "load-test", *args, timeout=60, **env)

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert not (project.run_root / "local").exists(), "no sandbox was started"
