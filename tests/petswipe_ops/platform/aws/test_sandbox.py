"""The AWS sandbox on the session's applied stack: emulated listener, metrics, down.

The session's moto server is shared with the other adapter tests, so the sandbox is
given it as a running one (up() then skips the apply, as it does for any running sandbox),
a placeholder process stands in for its pid, which down() must stop, and the terraform
state down() forgets is put back for the other tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from petswipe_ops import http_client
from petswipe_ops.config import AwsMetricsSource
from petswipe_ops.platform import open_platform
from petswipe_ops.platform.aws.metrics import PrometheusMetrics, SandboxCloudWatchMetrics
from petswipe_ops.platform.aws.outputs import terraform_dir
from petswipe_ops.platform.aws.sandbox.control import AwsSandbox
from petswipe_ops.platform.aws.sandbox.state import (
    SandboxState,
    alive,
    state_dir,
    write_state,
)
from petswipe_ops.platform.seams import Weights

pytestmark = pytest.mark.integration


def wait_for(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"{check.__doc__ or check} did not hold within {timeout} s")


def test_the_sandbox_serves_by_the_listener_weights_and_publishes_alb_metrics(
    stack, tmp_path
) -> None:
    placeholder = subprocess.Popen(["sleep", "600"], start_new_session=True)
    write_state(
        SandboxState(environment="staging", moto_url=stack.endpoint, moto_pid=placeholder.pid)
    )
    sandbox = AwsSandbox(stack.config)
    kept = tmp_path / "terraform"
    shutil.copytree(terraform_dir("staging"), kept)
    try:
        status = sandbox.up()
        assert status.running and status.endpoint_url.startswith("http://127.0.0.1:")
        assert status.weights == Weights(stable=100, candidate=0)
        assert [(s.name, s.desired) for s in status.services] == [
            ("petswipe-staging-stable", 2),
            ("petswipe-staging-canary", 0),
        ]

        platform = open_platform(stack.config)
        assert isinstance(platform.metrics, SandboxCloudWatchMetrics)
        candidate = platform.services.start(
            "2.0.1", "candidate", {"PETSWIPE_FAULT_ERROR_RATE": "0.5"}
        )
        assert platform.services.healthy(candidate)
        platform.router.set_candidate_weight(50)
        before = platform.metrics.read(candidate)

        codes: dict[int, int] = {}
        with http_client.client(base_url=status.endpoint_url, timeout=10) as client:
            for _ in range(200):
                code = client.get("/api/pets").status_code
                codes[code] = codes.get(code, 0) + 1
        assert codes.get(500, 0) >= 20 and codes.get(200, 0) >= 100, codes

        def window():
            """the candidate's ALB metrics reached moto's CloudWatch"""
            read = platform.metrics.read(candidate)
            return read if read.requests - before.requests >= 50 else None

        read = wait_for(window, timeout=30)
        assert read.errors - before.errors >= 20 and read.observed > 0

        prometheus = PrometheusMetrics(status.prometheus_url, stack.outputs)
        assert prometheus.read(candidate).errors >= 20
        prom_config = stack.config.model_copy(
            update={
                "aws": stack.config.aws.model_copy(
                    update={"metrics_source": AwsMetricsSource.PROMETHEUS}
                )
            }
        )
        assert isinstance(open_platform(prom_config).metrics, PrometheusMetrics)

        platform.router.detach_candidate()
        platform.services.stop(candidate)
        assert sandbox.status().weights == Weights(stable=100, candidate=0)
        tasks = json.loads((state_dir("staging") / "tasks.json").read_text())
    finally:
        recorded = SandboxState.model_validate_json(
            (state_dir("staging") / "state.json").read_text()
        )
        sandbox.down()
    shutil.copytree(kept, terraform_dir("staging"))
    placeholder.wait(timeout=15)
    leftovers = [recorded.emulator_pid, recorded.prometheus_pid, *tasks]
    assert not [pid for pid in leftovers if alive(pid)]
    assert not sandbox.status().running
