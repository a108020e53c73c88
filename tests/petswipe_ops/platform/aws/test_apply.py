"""The staging root applied to moto: a second plan shows no changes."""

from __future__ import annotations

import pytest

from petswipe_ops.platform.aws.outputs import stack_terraform
from petswipe_ops.platform.aws.sandbox.stack import stack_variables
from petswipe_ops.terraform import summarize_plan

pytestmark = pytest.mark.integration


def test_a_plan_after_the_apply_shows_no_changes(stack, tmp_path) -> None:
    """Run after the other tests have moved weights and versions and put them back."""
    tf = stack_terraform(stack.config, stack.endpoint)
    tf.init()
    plan = tf.plan(stack_variables(stack.config), tmp_path / "check.tfplan")
    summary = summarize_plan(tf.show_json(plan))
    assert not summary.has_changes, summary.as_markdown()
    outputs = stack.outputs
    assert outputs.region == "us-east-1" and outputs.dr_region == "us-west-2"
    assert outputs.listener_arn.startswith("arn:aws:elasticloadbalancing:us-east-1:")
    assert ":us-west-2:" in outputs.dr_backup_vault_arn
