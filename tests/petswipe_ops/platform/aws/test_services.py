"""ECS services of the applied staging stack: start, health, stop and finalize a version."""

from __future__ import annotations

import pytest

from petswipe_ops.errors import SandboxError
from petswipe_ops.platform.seams import ServiceRunner, Weights

pytestmark = pytest.mark.integration


def service(stack, name: str) -> dict:
    ecs = stack.client("ecs")
    return ecs.describe_services(cluster=stack.outputs.cluster, services=[name])["services"][0]


def container(stack, task_definition: str) -> dict:
    ecs = stack.client("ecs")
    described = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    return described["containerDefinitions"][0]


def test_a_candidate_runs_its_image_tag_on_the_canary_service_and_stops_at_zero(stack) -> None:
    services = stack.platform().services
    assert isinstance(services, ServiceRunner)
    assert services.instance("candidate") is None

    candidate = services.start("2.0.0", "candidate", {"PETSWIPE_FAULT_ERROR_RATE": "0.05"})

    canary = service(stack, stack.outputs.canary_service)
    assert canary["desiredCount"] == stack.config.service.replicas
    defined = container(stack, canary["taskDefinition"])
    assert defined["image"].endswith("/petswipe/api:2.0.0")
    assert {"name": "PETSWIPE_FAULT_ERROR_RATE", "value": "0.05"} in defined["environment"]
    assert services.instance("candidate") == candidate
    assert (
        candidate.version == "2.0.0" and candidate.endpoint == stack.outputs.canary_target_group_arn
    )

    services.stop(candidate)
    assert service(stack, stack.outputs.canary_service)["desiredCount"] == 0
    assert services.instance("candidate") is None


def test_health_comes_from_the_target_groups_target_health(stack) -> None:
    """moto has no tasks to register themselves; the test registers one target, as ECS would."""
    services = stack.platform().services
    candidate = services.start("2.0.0", "candidate", {})
    assert not services.healthy(candidate), "no registered target is not healthy"
    elbv2 = stack.client("elbv2")
    target = {"Id": "10.40.64.10", "Port": 8080}
    elbv2.register_targets(TargetGroupArn=stack.outputs.canary_target_group_arn, Targets=[target])
    try:
        assert services.healthy(candidate)
    finally:
        elbv2.deregister_targets(
            TargetGroupArn=stack.outputs.canary_target_group_arn, Targets=[target]
        )


def test_finalize_rolls_the_stable_service_before_traffic_returns_to_it(stack) -> None:
    """The release's finalize order: candidate 100 %, point the stable side at it (roll the
    stable service), stable 100 %, stop the old stable, rename."""
    platform = stack.platform()
    candidate = platform.services.start("2.0.0", "candidate", {})
    platform.router.set_candidate_weight(100)
    old = platform.services.instance("stable")
    assert old is not None and old.version == "1.0.0"

    platform.router.point_stable(candidate)
    stable = service(stack, stack.outputs.stable_service)
    assert container(stack, stable["taskDefinition"])["image"].endswith(":2.0.0")
    assert platform.router.get_weights() == Weights(stable=0, candidate=100)
    platform.router.detach_candidate()
    platform.services.stop(old)
    promoted = platform.services.rename(candidate, "stable")

    stable = service(stack, stack.outputs.stable_service)
    assert container(stack, stable["taskDefinition"])["image"].endswith(":2.0.0")
    assert stable["desiredCount"] == stack.config.service.replicas
    assert platform.router.get_weights() == Weights(stable=100, candidate=0)
    assert service(stack, stack.outputs.canary_service)["desiredCount"] == 0
    assert promoted.role == "stable" and promoted.version == "2.0.0"
    assert [i.version for i in platform.services.running()] == ["2.0.0"]


def test_a_service_that_never_settles_fails_at_its_deadline(stack) -> None:
    """A new moto service runs 0 of its desired tasks until updated: never steady."""
    ecs = stack.client("ecs")
    ecs.create_service(
        cluster=stack.outputs.cluster,
        serviceName="petswipe-staging-probe",
        taskDefinition=stack.stable_task_definition,
        desiredCount=1,
    )
    try:
        outputs = stack.outputs.model_copy(update={"canary_service": "petswipe-staging-probe"})
        services = stack.platform(outputs=outputs).services
        services.poll_seconds = 0.1
        with pytest.raises(SandboxError, match=r"did not reach a steady state within 1 s \(0 of 1"):
            services.wait_steady("candidate", timeout=1)
    finally:
        ecs.delete_service(
            cluster=stack.outputs.cluster, service="petswipe-staging-probe", force=True
        )
