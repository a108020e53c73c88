"""Apply the environment's AWS root to the sandbox's moto server, idempotently."""

from __future__ import annotations

from typing import Any

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.paths import run_dir
from petswipe_ops.platform.aws.outputs import save_outputs, stack_terraform
from petswipe_ops.terraform import summarize_plan

INITIAL_VERSION = "1.0.0"
APPLY_ROUNDS = 3


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
    """init, plan to a file, apply that plan until a plan shows no changes; save the outputs.

    Two rounds at most: moto's CreateService does not echo availabilityZoneRebalancing, so
    the first apply leaves the ECS services with that one attribute to set, which the second
    apply does (UpdateService echoes it); after that a plan shows no changes.
    """
    tf = stack_terraform(config, endpoint_url)
    tf.init()
    plan_file = run_dir(config.environment) / "terraform" / "sandbox.tfplan"
    for _ in range(APPLY_ROUNDS):
        tf.plan(stack_variables(config), plan_file)
        if not summarize_plan(tf.show_json(plan_file)).has_changes:
            break
        tf.apply(plan_file)
    outputs = tf.outputs()
    save_outputs(config.environment, outputs)
    return outputs


def stack_drift(config: EnvironmentConfig, endpoint_url: str) -> bool:
    """Whether a plan of the applied stack would change anything."""
    tf = stack_terraform(config, endpoint_url)
    tf.init()
    return tf.drift(stack_variables(config))
