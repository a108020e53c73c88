"""TrafficRouter on an ALB: the listener's default action forwards to two weighted target groups.

Weights are written with ModifyListener and always read back with DescribeListeners, so
what the pipeline records is what the load balancer holds.

The two sides are fixed target groups; what a side sends to is the task definition its ECS
service runs. So `state()` reads the services as well as the listener: the stable side's
target is the stable group, or the candidate's (canary) group once finalize has rolled the
stable service to the candidate's task definition, since from then on both groups serve the
candidate. `point_stable()` is that roll: the stable service moves to the candidate's task
definition and reaches a steady state, with a deadline, before traffic returns to it.
"""

from __future__ import annotations

from typing import Any

from petswipe_ops.errors import SandboxError
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.errors import aws_call
from petswipe_ops.platform.aws.outputs import StackOutputs
from petswipe_ops.platform.aws.services import EcsServices
from petswipe_ops.platform.seams import RouterState, VersionInstance, Weights


class AlbRouter:
    def __init__(self, clients: AwsClients, outputs: StackOutputs, services: EcsServices) -> None:
        self.elbv2 = clients("elbv2")
        self.endpoint = clients.endpoint_url
        self.outputs = outputs
        self.services = services

    @property
    def _listener(self) -> str:
        return f"ALB listener {self.outputs.listener_arn}"

    def default_actions(self) -> list[dict[str, Any]]:
        with aws_call("read the weights of", self._listener, endpoint=self.endpoint):
            listeners = self.elbv2.describe_listeners(ListenerArns=[self.outputs.listener_arn])
        return listeners["Listeners"][0]["DefaultActions"]

    def forward(self) -> dict[str, int]:
        """Target group ARN -> weight, as the listener's default action holds them."""
        actions = self.default_actions()
        weights: dict[str, int] = {}
        for action in actions:
            if action["Type"] != "forward":
                continue
            groups = action.get("ForwardConfig", {}).get("TargetGroups")
            if groups:
                weights.update({g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups})
            elif action.get("TargetGroupArn"):
                weights[action["TargetGroupArn"]] = 1
        return weights

    @property
    def _groups(self) -> list[str]:
        return [self.outputs.stable_target_group_arn, self.outputs.canary_target_group_arn]

    def get_weights(self) -> Weights:
        forward = self.forward()
        stable = forward.get(self.outputs.stable_target_group_arn, 0)
        canary = forward.get(self.outputs.canary_target_group_arn, 0)
        total = stable + canary
        if total == 0:
            raise SandboxError(
                f"{self._listener} forwards to neither the stable nor the canary target group; "
                "apply the environment's terraform root to restore its default action."
            )
        candidate = round(100 * canary / total)
        return Weights(stable=100 - candidate, candidate=candidate)

    def set_candidate_weight(self, percent: int) -> Weights:
        if not 0 <= percent <= 100:
            raise ValueError(f"weight {percent} is not a percentage")
        # Only the weights change: the stickiness terraform set is kept as it is, so a later
        # plan sees no difference but the weights.
        current = next(
            (a.get("ForwardConfig", {}) for a in self.default_actions() if a["Type"] == "forward"),
            {},
        )
        stickiness = current.get("TargetGroupStickinessConfig", {"Enabled": False})
        action: dict[str, Any] = {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {
                        "TargetGroupArn": self.outputs.stable_target_group_arn,
                        "Weight": 100 - percent,
                    },
                    {"TargetGroupArn": self.outputs.canary_target_group_arn, "Weight": percent},
                ],
                "TargetGroupStickinessConfig": stickiness,
            },
        }
        resource = (
            f"{self._listener} (stable target group {self.outputs.stable_target_group_arn}, "
            f"canary target group {self.outputs.canary_target_group_arn})"
        )
        with aws_call(f"set canary weight {percent} % on", resource, endpoint=self.endpoint):
            self.elbv2.describe_target_groups(TargetGroupArns=self._groups)
            self.elbv2.modify_listener(
                ListenerArn=self.outputs.listener_arn, DefaultActions=[action]
            )
        return self.get_weights()

    def state(self) -> RouterState:
        """The listener's weights and the target group that really serves each side."""
        weights = self.get_weights()
        stable = self.services.describe("stable")
        canary = self.services.describe("candidate")
        canary_runs = canary["desiredCount"] > 0
        if canary_runs and stable["taskDefinition"] == canary["taskDefinition"]:
            stable_target: str | None = self.outputs.canary_target_group_arn
        elif stable["desiredCount"] > 0:
            stable_target = self.outputs.stable_target_group_arn
        else:
            stable_target = None
        return RouterState(
            weights=weights,
            stable_target=stable_target,
            candidate_target=self.outputs.canary_target_group_arn if canary_runs else None,
        )

    def attach_candidate(self, instance: VersionInstance) -> None:
        """The canary service registers its tasks in the canary group; it starts at weight 0."""
        if self.get_weights().candidate != 0:
            self.set_candidate_weight(0)

    def point_stable(self, instance: VersionInstance) -> None:
        """The stable side serves `instance`: the stable service rolled to its task definition
        and steady (with the services' deadline); the weights are left as they are."""
        self.services.roll_stable_to(instance)

    def detach_candidate(self) -> None:
        """Stable 100 %, canary 0 %; the canary service is stopped by the service runner."""
        self.set_candidate_weight(0)
