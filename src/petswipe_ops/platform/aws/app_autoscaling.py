"""Application Auto Scaling: the predictive plan's scheduled actions on the ECS service."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from petswipe_ops.errors import ExternalCommandError
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.outputs import StackOutputs
from petswipe_ops.scaling.plan import ScheduledAction

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
PREFIX_MARK = "-predictive-"


class ScheduledScaling:
    """Writes the plan's actions to the service's scalable target and retires stale ones.

    Names carry the hour they are for, so a re-run writes the same names (put is an
    upsert) and converges; actions of an earlier plan that the new one no longer has are
    deleted after the new ones are in place, so the floor is never missing in between.
    """

    def __init__(self, clients: AwsClients, outputs: StackOutputs) -> None:
        self.resource_id = f"service/{outputs.cluster}/{outputs.stable_service}"
        self.client = clients("application-autoscaling")

    def existing(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = self._call(
                "describe_scheduled_actions",
                ServiceNamespace=NAMESPACE,
                ResourceId=self.resource_id,
                ScalableDimension=DIMENSION,
                **({"NextToken": token} if token else {}),
            )
            names += [a["ScheduledActionName"] for a in page.get("ScheduledActions", [])]
            token = page.get("NextToken")
            if not token:
                return names

    def apply(self, actions: list[ScheduledAction]) -> dict[str, int]:
        wanted = {a.name for a in actions}
        for action in actions:
            self._call(
                "put_scheduled_action",
                ServiceNamespace=NAMESPACE,
                ResourceId=self.resource_id,
                ScalableDimension=DIMENSION,
                ScheduledActionName=action.name,
                Schedule=f"at({action.at:%Y-%m-%dT%H:%M:%S})",
                Timezone="UTC",
                ScalableTargetAction={
                    "MinCapacity": action.min_capacity,
                    "MaxCapacity": action.max_capacity,
                },
            )
        stale = [n for n in self.existing() if PREFIX_MARK in n and n not in wanted]
        for name in stale:
            self._call(
                "delete_scheduled_action",
                ServiceNamespace=NAMESPACE,
                ResourceId=self.resource_id,
                ScalableDimension=DIMENSION,
                ScheduledActionName=name,
            )
        return {"written": len(actions), "retired": len(stale)}

    def _call(self, operation: str, **kwargs):
        try:
            return getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ExternalCommandError(
                f"Application Auto Scaling {operation} on {self.resource_id} failed: {exc}; "
                "check the scalable target exists (terraform apply) and the credentials."
            ) from exc
