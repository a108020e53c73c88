"""Shared fixtures: an isolated copy of the project with free ports, and Prefect's harness.

Integration tests never touch a user's own sandbox: each test project gets its own
root (links to the real sandbox/, policies/, terraform/, load_tests/ and a copy of
migrations/ and deployments/), its own run folder and ports picked at random.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from petswipe_ops.paths import project_root
from petswipe_ops.ports import free_ports

pytest_plugins = [
    "tests.fixtures.moto_server",
    "tests.fixtures.postgres",
    "tests.fixtures.prefect_server",
    "tests.fixtures.receiver",
]

# Prefect servers started by the tests send no telemetry (the network is closed).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO = project_root()
LINKED = ("sandbox", "policies", "terraform", "load_tests")
COPIED = ("migrations", "deployments")
# Canary traffic through HAProxy in test projects: a little above the demo's 120 req/s, so
# a healthy 10 % step reaches the sequential gate's ~240 requests in about 16 s. Each
# request costs the reference service CPU; at 250 req/s two canaries running side by side
# in a parallel suite saturate 2 cores, and the latency gates then judge the host instead
# of the candidate.
TEST_TRAFFIC_RATE = 150
TEST_CANARY = {"traffic_rate": TEST_TRAFFIC_RATE, "observe_interval_seconds": 0.5}
"""The canary of test projects: the rate above, and the gate reading both versions twice a
second instead of five times (each read is three HTTP calls and a parse; a verdict comes at
most 0.3 s later), which leaves the suite's parallel canaries more of the host."""


class Project:
    """A throwaway project root whose environments use free ports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.run_root = root / ".sandbox"
        root.mkdir(parents=True)
        for name in LINKED:
            (root / name).symlink_to(REPO / name)
        for name in COPIED:
            shutil.copytree(REPO / name, root / name)
        self.set_local_ports("local")
        self.edit("local", lambda data: data["canary"].update(**TEST_CANARY))

    def env(self) -> dict[str, str]:
        return {"PETSWIPE_ROOT": str(self.root), "PETSWIPE_RUN_DIR": str(self.run_root)}

    def edit(self, environment: str, change, source: str = "local") -> None:
        """Write deployments/<environment>.yaml as `change(data)` of <source>.yaml."""
        data = yaml.safe_load((self.root / "deployments" / f"{source}.yaml").read_text())
        data["environment"] = environment
        change(data)
        (self.root / "deployments" / f"{environment}.yaml").write_text(yaml.safe_dump(data))

    def set_local_ports(self, environment: str, source: str = "local") -> None:
        router, stable, candidate, database, prometheus, exporter = free_ports(6)

        def ports(data):
            data["local"]["router_port"] = router
            data["local"]["prometheus_port"] = prometheus
            data["local"]["router_metrics_port"] = exporter
            data["local"]["service_ports"] = [stable, candidate]
            if data["local"].get("postgres"):
                data["local"]["postgres"]["port"] = database

        self.edit(environment, ports, source)

    @property
    def terraform_root(self) -> Path:
        return self.root / "terraform" / "environments" / "local"


AWS_STACK_DIR = "tests/petswipe_ops/platform/aws/"
"""Its files share one staging stack applied to moto per process (two to four minutes), so
the suite runs them all on one worker: xdist treats the folder as a single file."""

SLOWEST_FILES = (
    AWS_STACK_DIR,
    "tests/deployments/test_prefect_deployments.py",
    "tests/petswipe_cli/test_main.py",
    "tests/flows/test_release.py",
    "tests/chaos/test_chaos.py",
    "tests/deployments/test_make_ui.py",
    "tests/petswipe_cli/test_backup_commands.py",
    "tests/petswipe_ops/infra/test_infra_tests.py",
    "tests/test_secrets_not_leaked.py",
    "tests/petswipe_cli/test_load_test.py",
    "tests/petswipe_ops/infra/test_cost.py",
    "tests/flows/test_backup.py",
    "tests/petswipe_ops/secrets/test_rotation_local.py",
    "tests/flows/test_load_test_campaign.py",
    "tests/petswipe_ops/test_policy.py",
)
"""The files that take longest, longest first (`make test` passes --no-loadscope-reorder):
xdist hands each worker a whole file as it frees up, in collection order, so starting
with these leaves short files to fill the end instead of one long file running alone."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests on the applied AWS stack (they take `applied_stack`) `aws_stack`, so
    `make test-aws-stack` runs them in one process on one stack; its release-flow tests,
    which move the stack's terraform state on, run last. The slowest files go first."""
    for item in items:
        if "applied_stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.aws_stack)

    def order(item: pytest.Item) -> tuple[bool, int]:
        path = _scope(item.nodeid)
        rank = SLOWEST_FILES.index(path) if path in SLOWEST_FILES else len(SLOWEST_FILES)
        return item.nodeid.split("::")[0].endswith("aws/test_release_flow.py"), rank

    items.sort(key=order)  # stable: the other files and each file's tests keep their order


def _scope(nodeid: str) -> str:
    """What one worker runs as a whole: a test file, or the AWS stack's folder."""
    path = nodeid.split("::", 1)[0]
    return AWS_STACK_DIR if path.startswith(AWS_STACK_DIR) else path


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, with the AWS stack's folder as one file (see AWS_STACK_DIR)."""
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope(nodeid)

    return Scheduling(config, log)


@pytest.fixture
def make_project(tmp_path_factory, monkeypatch) -> Iterator:
    """Create and activate a fresh Project; its sandboxes are stopped afterwards."""
    made: list[Project] = []

    def make() -> Project:
        project = Project(tmp_path_factory.mktemp("project") / "root")
        for key, value in project.env().items():
            monkeypatch.setenv(key, value)
        made.append(project)
        return project

    yield make
    for project in made:
        _stop_sandboxes(project)


def _stop_sandboxes(project: Project) -> None:
    """Stop whatever a test left running, from the run folders' pid files alone, so a
    test that broke an environment file cannot leave processes behind."""
    import json

    from petswipe_ops.platform.local.services import terminate

    for run in project.run_root.glob("*"):
        services = run / "services.json"
        if services.is_file():
            for entry in json.loads(services.read_text()).values():
                terminate(entry["pid"])
        router = run / "haproxy.pid"
        if router.is_file():
            for pid in router.read_text().split():
                terminate(int(pid), group=False)
        prometheus = run / "prometheus" / "prometheus.pid"
        if prometheus.is_file():
            terminate(int(prometheus.read_text().strip()))
        _stop_postgres(run)


def _stop_postgres(run: Path) -> None:
    """Stop and remove the cluster a sandbox started for this run folder, if any."""
    from petswipe_ops.platform.local.postgres import PostgresCluster, cluster_home

    home = cluster_home(run)
    if home.is_dir():
        PostgresCluster(home, 0).remove()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
