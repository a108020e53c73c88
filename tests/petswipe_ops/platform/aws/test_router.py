"""The ALB router against the applied staging stack on a real moto server."""

from __future__ import annotations

import pytest

from petswipe_ops.platform.aws.errors import AwsNotFound
from petswipe_ops.platform.seams import TrafficRouter, Weights

pytestmark = pytest.mark.integration


def listener_weights(stack) -> dict[str, int]:
    """What boto3 itself reads from the listener, as a user would check it."""
    listener = stack.client("elbv2").describe_listeners(ListenerArns=[stack.outputs.listener_arn])
    groups = listener["Listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    return {g["TargetGroupArn"]: g["Weight"] for g in groups}


def test_the_router_sets_the_listener_weights_and_reads_them_back(stack) -> None:
    router = stack.platform().router
    assert isinstance(router, TrafficRouter)
    assert router.get_weights() == Weights(stable=100, candidate=0)

    assert router.set_candidate_weight(10) == Weights(stable=90, candidate=10)
    assert listener_weights(stack) == {
        stack.outputs.stable_target_group_arn: 90,
        stack.outputs.canary_target_group_arn: 10,
    }
    router.detach_candidate()
    assert listener_weights(stack)[stack.outputs.canary_target_group_arn] == 0


def test_a_missing_target_group_is_one_sentence_and_changes_nothing(stack) -> None:
    stack.platform().router.set_candidate_weight(10)
    missing = stack.outputs.canary_target_group_arn.rsplit("/", 1)[0] + "/0000000000000000"
    broken = stack.platform(
        outputs=stack.outputs.model_copy(update={"canary_target_group_arn": missing})
    )
    with pytest.raises(AwsNotFound) as caught:
        broken.router.set_candidate_weight(50)
    message = str(caught.value)
    assert missing in message and "TargetGroupNotFound" in message
    assert message.endswith("or fix the name.") and message.count(". ") == 0
    assert listener_weights(stack)[stack.outputs.canary_target_group_arn] == 10
