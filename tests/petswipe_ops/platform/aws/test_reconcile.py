"""The ALB router's real state and reconcile on the applied staging stack (real moto server).

What a killed release leaves is built with the adapters, then `converge` reads it back with
boto3 and must leave the listener at stable 100 / canary 0 and the canary service at 0 tasks,
never taking the stable service down.
"""

from __future__ import annotations

import subprocess

import pytest

from petswipe_ops import pipeline, reconcile
from petswipe_ops.errors import ConfigError
from petswipe_ops.platform.aws.sandbox.state import SandboxState, state_file, write_state
from petswipe_ops.platform.seams import RouterState, Weights
from petswipe_ops.release import ReleaseRequest

pytestmark = pytest.mark.integration


def service(stack, name: str) -> dict:
    ecs = stack.client("ecs")
    return ecs.describe_services(cluster=stack.outputs.cluster, services=[name])["services"][0]


def image(stack, name: str) -> str:
    definition = service(stack, name)["taskDefinition"]
    described = stack.client("ecs").describe_task_definition(taskDefinition=definition)
    return described["taskDefinition"]["containerDefinitions"][0]["image"]


def canary_weight(stack) -> int:
    listener = stack.client("elbv2").describe_listeners(ListenerArns=[stack.outputs.listener_arn])
    groups = listener["Listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    return {g["TargetGroupArn"]: g["Weight"] for g in groups}[stack.outputs.canary_target_group_arn]


def test_state_names_the_group_that_serves_each_side(stack) -> None:
    outputs = stack.outputs
    platform = stack.platform()
    router, services = platform.router, platform.services
    assert router.state() == RouterState(
        weights=Weights(stable=100, candidate=0),
        stable_target=outputs.stable_target_group_arn,
        candidate_target=None,
    )

    candidate = services.start("2.0.0", "candidate", {})
    router.set_candidate_weight(50)
    assert router.state() == RouterState(
        weights=Weights(stable=50, candidate=50),
        stable_target=outputs.stable_target_group_arn,
        candidate_target=outputs.canary_target_group_arn,
    )

    router.point_stable(candidate)
    state = router.state()
    assert state.weights == Weights(stable=50, candidate=50), "point_stable moves no weight"
    assert state.stable_target == candidate.endpoint == outputs.canary_target_group_arn
    assert image(stack, outputs.stable_service).endswith(":2.0.0")
    assert [i.version for i in services.running()] == ["2.0.0"]


def test_reconcile_after_a_kill_at_50_percent_puts_traffic_back_on_stable(stack) -> None:
    platform = stack.platform()
    platform.services.start("2.0.1", "candidate", {})
    platform.router.set_candidate_weight(50)

    done = reconcile.converge(stack.platform())

    assert done.direction is reconcile.Direction.ROLLED_BACK
    assert canary_weight(stack) == 0
    assert service(stack, stack.outputs.canary_service)["desiredCount"] == 0
    stable = service(stack, stack.outputs.stable_service)
    assert stable["desiredCount"] == stack.config.service.replicas
    assert stable["taskDefinition"] == stack.stable_task_definition
    assert done.weights == Weights(stable=100, candidate=0)


def test_reconcile_after_the_stable_roll_finishes_the_release(stack) -> None:
    """Killed in finalize once the stable service runs the candidate: rolled forward."""
    platform = stack.platform()
    candidate = platform.services.start("2.0.0", "candidate", {})
    platform.router.set_candidate_weight(100)
    platform.router.point_stable(candidate)

    done = reconcile.converge(stack.platform())

    assert done.direction is reconcile.Direction.ROLLED_FORWARD
    assert done.stable is not None and done.stable.version == "2.0.0"
    assert canary_weight(stack) == 0
    assert service(stack, stack.outputs.canary_service)["desiredCount"] == 0
    stable = service(stack, stack.outputs.stable_service)
    assert stable["desiredCount"] == stack.config.service.replicas
    assert image(stack, stack.outputs.stable_service).endswith(":2.0.0")


def test_reconcile_of_a_converged_stack_changes_nothing(stack) -> None:
    done = reconcile.converge(stack.platform())
    assert done.stopped == [] and done.weights == Weights(stable=100, candidate=0)
    assert service(stack, stack.outputs.stable_service)["taskDefinition"] == (
        stack.stable_task_definition
    )


def test_the_release_guard_accepts_the_aws_platform(stack) -> None:
    """Its router reads its real state back and points the stable side. The sandbox record
    names the stack's moto server (a placeholder process for its pid) and no emulator, so
    a fault, which only emulated tasks can honour, is refused."""
    placeholder = subprocess.Popen(["sleep", "60"], start_new_session=True)
    write_state(
        SandboxState(environment="staging", moto_url=stack.endpoint, moto_pid=placeholder.pid)
    )
    try:
        config = pipeline.guard(ReleaseRequest(environment="staging", version="2.0.0"))
        assert config.environment == "staging"
        with pytest.raises(ConfigError, match=r"^faults can only be injected into a sandbox"):
            pipeline.guard(
                ReleaseRequest(environment="staging", version="2.0.1", fault="error_rate=0.05")
            )
    finally:
        state_file("staging").unlink()
        placeholder.kill()
        placeholder.wait()
    assert canary_weight(stack) == 0
