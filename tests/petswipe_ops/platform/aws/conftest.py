"""One applied staging stack on a real moto server, shared by every AWS adapter test.

terraform applies terraform/environments/aws with staging.tfvars once per session (two to
four minutes on moto: the provider's RDS, load-balancer and S3 lifecycle waiters poll on fixed
delays, in parallel), into a moto server of this
module's own, so the `moto_endpoint` fixture's resets elsewhere cannot wipe it. Each test
gets the platform back at its baseline: canary weight 0, canary service at 0 tasks, both
services on their first task definitions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.platform.aws.outputs import StackOutputs, terraform_dir
from petswipe_ops.platform.aws.platform import AwsPlatform
from petswipe_ops.platform.aws.sandbox.control import AwsSandbox
from petswipe_ops.platform.aws.sandbox.moto import start_moto, stop_process
from petswipe_ops.platform.aws.sandbox.stack import apply_stack
from petswipe_ops.platform.aws.sandbox.state import (
    SANDBOX_CREDENTIALS,
    SandboxState,
    write_state,
)
from petswipe_ops.ports import free_port
from tests.conftest import REPO

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass(frozen=True)
class AppliedStack:
    config: EnvironmentConfig
    endpoint: str
    outputs: StackOutputs
    run_root: Path
    stable_task_definition: str
    canary_task_definition: str

    def client(self, service: str, region: str = "us-east-1"):
        return boto3.client(
            service, region_name=region, endpoint_url=self.endpoint, **SANDBOX_CREDENTIALS
        )

    def platform(self, **overrides) -> AwsPlatform:
        return AwsPlatform(
            self.config,
            endpoint_url=self.endpoint,
            outputs=overrides.pop("outputs", self.outputs),
            credentials=SANDBOX_CREDENTIALS,
            **overrides,
        )


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set `values` in os.environ for the block only (a session fixture has no monkeypatch)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def applied_stack(tmp_path_factory) -> Iterator[AppliedStack]:
    run_root = tmp_path_factory.mktemp("aws-stack")

    port = free_port()
    pid = start_moto(port, run_root / "moto.log")
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with environment({**AWS_ENV, "PETSWIPE_RUN_DIR": str(run_root)}):
            config = load_environment("staging", project_root())

            outputs = StackOutputs.model_validate(apply_stack(config, endpoint))
        ecs = boto3.client("ecs", "us-east-1", endpoint_url=endpoint, **SANDBOX_CREDENTIALS)
        services = ecs.describe_services(
            cluster=outputs.cluster, services=[outputs.stable_service, outputs.canary_service]
        )["services"]
        by_name = {s["serviceName"]: s["taskDefinition"] for s in services}
        yield AppliedStack(
            config,
            endpoint,
            outputs,
            run_root,
            by_name[outputs.stable_service],
            by_name[outputs.canary_service],
        )
    finally:
        stop_process(pid)


def _deregister_canary_targets(stack: AppliedStack) -> None:
    """The baseline has no target in the canary group: the canary service runs no task. An
    AWS sandbox's emulator registers its tasks' targets itself, and one stopping as a test
    ends can register a last one."""
    elbv2 = stack.client("elbv2")
    group = stack.outputs.canary_target_group_arn
    targets = [
        {"Id": d["Target"]["Id"], "Port": d["Target"]["Port"]}
        for d in elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    ]
    if targets:
        elbv2.deregister_targets(TargetGroupArn=group, Targets=targets)


@pytest.fixture
def stack(applied_stack: AppliedStack, monkeypatch) -> Iterator[AppliedStack]:
    """The applied stack at its baseline for the test, and put back at it afterwards."""
    for key, value in {**AWS_ENV, "PETSWIPE_RUN_DIR": str(applied_stack.run_root)}.items():
        monkeypatch.setenv(key, value)
    _deregister_canary_targets(applied_stack)
    yield applied_stack
    _deregister_canary_targets(applied_stack)
    outputs = applied_stack.outputs
    platform = applied_stack.platform()
    platform.router.set_candidate_weight(0)
    ecs = applied_stack.client("ecs")
    ecs.update_service(
        cluster=outputs.cluster,
        service=outputs.canary_service,
        taskDefinition=applied_stack.canary_task_definition,
        desiredCount=0,
    )
    ecs.update_service(
        cluster=outputs.cluster,
        service=outputs.stable_service,
        taskDefinition=applied_stack.stable_task_definition,
        desiredCount=applied_stack.config.service.replicas,
    )


@pytest.fixture
def sandbox(stack, make_project, monkeypatch, tmp_path):
    """The AWS sandbox on the session's stack, as `make aws-sandbox-up` leaves it, for a
    project of the test's own: the emulated listener and its tasks run until the test ends.

    The session's moto server is given to the sandbox as a running one (so up() skips the
    apply); a placeholder process stands in for its pid, which down() stops, and the
    terraform state down() forgets is put back for the other tests.
    """
    project = make_project()
    # A release's infra tests price the plan (the cost check) from the repository's table.
    (project.root / "pricing").symlink_to(REPO / "pricing")
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(stack.run_root))
    placeholder = subprocess.Popen(["sleep", "900"], start_new_session=True)
    write_state(
        SandboxState(environment="staging", moto_url=stack.endpoint, moto_pid=placeholder.pid)
    )
    kept = tmp_path / "terraform"
    shutil.copytree(terraform_dir("staging"), kept)
    sandbox = AwsSandbox(load_environment("staging", project.root))
    try:
        sandbox.up()
        yield project
    finally:
        sandbox.down()
        placeholder.wait(timeout=10)
        shutil.copytree(kept, terraform_dir("staging"), dirs_exist_ok=True)
