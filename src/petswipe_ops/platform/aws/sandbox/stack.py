"""Apply the environment's AWS root to the sandbox's moto server, idempotently."""

from __future__ import annotations

from typing import Any

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.paths import run_dir
from petswipe_ops.platform.aws.outputs import save_outputs, stack_terraform
from petswipe_ops.terraform import summarize_plan

INITIAL_VERSION = "1.0.0"


def stack_variables(config: EnvironmentConfig) -> dict[str, str]:
    """The release variables of a first apply: the initial version on the stable track only."""
    version = config.local.stable_version if config.local else INITIAL_VERSION
    return {
        "environment": config.environment,
        "release_version": version,
        "stable_version": version,
        "candidate_weight": "0",
    }


def apply_stack(config: EnvironmentConfig, endpoint_url: str) -> dict[str, Any]:
    """init, plan to a file, apply that plan; save and return the outputs."""
    tf = stack_terraform(config, endpoint_url)
    tf.init()
    plan_file = run_dir(config.environment) / "terraform" / "sandbox.tfplan"
    tf.plan(stack_variables(config), plan_file)
    if summarize_plan(tf.show_json(plan_file)).has_changes:
        tf.apply(plan_file)
    outputs = tf.outputs()
    save_outputs(config.environment, outputs)
    return outputs


def stack_drift(config: EnvironmentConfig, endpoint_url: str) -> bool:
    """Whether a plan of the applied stack would change anything."""
    return stack_terraform(config, endpoint_url).drift(stack_variables(config))
