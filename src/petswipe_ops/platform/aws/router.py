"""TrafficRouter on an ALB: the listener's default action forwards to two weighted target groups.

Weights are written with ModifyListener and always read back with DescribeListeners, so
what the pipeline records is what the load balancer holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from petswipe_ops.errors import SandboxError
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.errors import aws_call
from petswipe_ops.platform.aws.outputs import StackOutputs
from petswipe_ops.platform.seams import VersionInstance, Weights


class AlbRouter:
    def __init__(
        self,
        clients: AwsClients,
        outputs: StackOutputs,
        *,
        before_promote: Callable[[VersionInstance], None] = lambda instance: None,
    ) -> None:
        """`before_promote` rolls the stable track to the candidate before traffic returns to it."""
        self.elbv2 = clients("elbv2")
        self.endpoint = clients.endpoint_url
        self.outputs = outputs
        self.before_promote = before_promote

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

    def attach_candidate(self, instance: VersionInstance) -> None:
        """The canary service registers its tasks in the canary group; it starts at weight 0."""
        if self.get_weights().candidate != 0:
            self.set_candidate_weight(0)

    def promote_candidate(self, instance: VersionInstance) -> None:
        """Stable track rolled to the candidate's task definition first, then traffic back to it."""
        self.before_promote(instance)
        self.set_candidate_weight(0)

    def detach_candidate(self) -> None:
        self.set_candidate_weight(0)
