"""The staging root applied to moto: a second plan shows no changes."""

from __future__ import annotations

import pytest

from petswipe_ops.platform.aws.sandbox.stack import stack_drift

pytestmark = pytest.mark.integration


def test_a_plan_after_the_apply_shows_no_changes(stack) -> None:
    assert stack_drift(stack.config, stack.endpoint) is False
    outputs = stack.outputs
    assert outputs.region == "us-east-1" and outputs.dr_region == "us-west-2"
    assert outputs.listener_arn.startswith("arn:aws:elasticloadbalancing:us-east-1:")
    assert ":us-west-2:" in outputs.dr_backup_vault_arn
