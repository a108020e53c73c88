"""`make ui` and `make ui-down` as a user types them, in a throwaway project root with its
own PREFECT_HOME and a free port; and the one-sentence errors of the new commands."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest
import yaml

from petswipe_ops import http_client
from petswipe_ops.ports import free_ports
from tests.conftest import REPO
from tests.fixtures.prefect_server import deployable_project, processes_under
from tests.petswipe_cli.test_main import cli


def make(project, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **project.env(), "PREFECT_HOME": str(project.root / ".home")}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.mark.integration
def test_make_ui_starts_server_worker_and_deployments_and_ui_down_stops_them(tmp_path):
    project = deployable_project(lambda: tmp_path / "root")
    port = free_ports(1)[0]
    try:
        up = make(project, "ui", f"PORT={port}")
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"Prefect UI on http://127.0.0.1:{port}" in up.stdout
        assert "make ui-down" in up.stdout

        api = f"http://127.0.0.1:{port}/api"
        assert http_client.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        found = http_client.post(f"{api}/deployments/filter", json={}, timeout=10).json()
        spec = yaml.safe_load((project.root / "prefect.yaml").read_text())
        assert sorted(d["name"] for d in found) == sorted(e["name"] for e in spec["deployments"])
        workers = http_client.post(
            f"{api}/work_pools/local-process/workers/filter", json={}, timeout=10
        )
        assert [w["name"] for w in workers.json()] == ["local"]
        assert len(list((project.run_root / "prefect-ui").glob("*.pid"))) == 2
    finally:
        down = make(project, "ui-down")
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == "stopped worker-local, server"
    assert list((project.run_root / "prefect-ui").glob("*.pid")) == []
    assert processes_under(project.root) == []
    with pytest.raises(httpx.ConnectError):
        http_client.get(f"{api}/health", timeout=2)


def test_ui_refuses_to_start_when_a_release_deployment_has_a_concurrency_limit(make_project):
    project = make_project()
    spec = (
        (REPO / "prefect.yaml")
        .read_text()
        .replace(
            "    tags: [release, local]\n",
            "    tags: [release, local]\n    concurrency_limit: 1\n",
        )
    )
    (project.root / "prefect.yaml").write_text(spec)

    result = cli(project, "ui", "up", "--port", str(free_ports(1)[0]), timeout=60)

    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "error: release/local in prefect.yaml sets concurrency_limit; remove it: "
    )
    assert not (project.run_root / "prefect-ui").exists(), "nothing was started"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["approve", "42"], "error: '42' is not a flow run id; copy it from the run's page."),
        (
            ["ci-release", "--env", "qa", "--version", "1.2.0"],
            "error: unknown environment 'qa'",
        ),
        (
            ["ci-release", "--env", "local", "--version", "1.2"],
            "error: release parameter 'version' is invalid: '1.2' is not a semantic version",
        ),
    ],
    ids=["approve-bad-id", "ci-unknown-env", "ci-bad-version"],
)
def test_bad_input_is_one_sentence_before_anything_runs(make_project, args, expected):
    project = make_project()
    result = cli(project, *args, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert "Created flow run" not in result.stdout
