"""ServiceRunner on ECS: one service per track (stable, canary), each behind its target group.

A version is a task definition revision: the track's current one with the image tag set to
the version and the release's environment added. Starting the candidate updates the canary
service and waits for a steady state (one deployment, running = desired) with a deadline;
health is the canary target group's target health; stopping scales the service to 0.

A VersionInstance's `handle` is "<service>|<task definition ARN>" and its `endpoint` the
track's target group ARN, so a stop of a version the service no longer runs changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

from petswipe_ops.errors import SandboxError
from petswipe_ops.platform.aws.clients import AwsClients
from petswipe_ops.platform.aws.errors import aws_call
from petswipe_ops.platform.aws.outputs import StackOutputs
from petswipe_ops.platform.seams import VersionInstance

TRACK_OF_ROLE = {"stable": "stable", "candidate": "canary"}
# Fields describe_task_definition returns that register_task_definition accepts.
REGISTRABLE = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
    "ephemeralStorage",
)


class EcsServices:
    def __init__(
        self,
        clients: AwsClients,
        outputs: StackOutputs,
        *,
        replicas: int,
        ready_timeout: float = 600,
        poll_seconds: float = 2.0,
        wait_for_targets: bool = True,
    ) -> None:
        """`wait_for_targets`: a start also waits for healthy targets (off on bare moto, where
        nothing registers any)."""
        self.ecs = clients("ecs")
        self.elbv2 = clients("elbv2")
        self.endpoint = clients.endpoint_url
        self.outputs = outputs
        self.replicas = replicas
        self.ready_timeout = ready_timeout
        self.poll_seconds = poll_seconds
        self.wait_for_targets = wait_for_targets

    # -- reading -------------------------------------------------------------------------

    def describe(self, role: str) -> dict[str, Any]:
        name = self.outputs.service(role)
        resource = f"ECS service {name} in cluster {self.outputs.cluster}"
        with aws_call("describe", resource, endpoint=self.endpoint):
            reply = self.ecs.describe_services(cluster=self.outputs.cluster, services=[name])
        services = [s for s in reply["services"] if s.get("status") != "INACTIVE"]
        if not services:
            raise SandboxError(
                f"{resource} does not exist; apply the environment's terraform root "
                "(make aws-sandbox-up for the AWS sandbox)."
            )
        return services[0]

    def task_definition(self, arn: str) -> dict[str, Any]:
        with aws_call("describe", f"ECS task definition {arn}", endpoint=self.endpoint):
            return self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]

    def version_of(self, task_definition: dict[str, Any]) -> str:
        image = task_definition["containerDefinitions"][0]["image"]
        return image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"

    def instance(self, role: str) -> VersionInstance | None:
        service = self.describe(role)
        if service["desiredCount"] == 0:
            return None
        arn = service["taskDefinition"]
        return VersionInstance(
            version=self.version_of(self.task_definition(arn)),
            role=role,
            endpoint=self.outputs.target_group(role),
            handle=f"{service['serviceName']}|{arn}",
        )

    def running(self) -> list[VersionInstance]:
        """One entry per running version. Once finalize has rolled the stable service to the
        canary's task definition, both groups serve that one version: it is listed once, as
        the candidate, so converging (which stops what it does not keep) cannot take the
        stable service down with the old version it no longer runs."""
        stable, candidate = self.instance("stable"), self.instance("candidate")
        if stable and candidate and _task_definition(stable) == _task_definition(candidate):
            return [candidate]
        return [i for i in (stable, candidate) if i is not None]

    # -- changing ------------------------------------------------------------------------

    def register(self, version: str, role: str, env: dict[str, str]) -> str:
        """A new revision of the track's task definition running `version`; its ARN."""
        current = self.task_definition(self.describe(role)["taskDefinition"])
        request = {k: current[k] for k in REGISTRABLE if current.get(k)}
        containers = []
        for container in current["containerDefinitions"]:
            image = container["image"].rsplit(":", 1)[0]
            environment = {e["name"]: e["value"] for e in container.get("environment", [])}
            environment = {
                k: v for k, v in environment.items() if not k.startswith("PETSWIPE_FAULT_")
            }
            environment.update(env)
            containers.append(
                {
                    **container,
                    "image": f"{image}:{version}",
                    "environment": [
                        {"name": k, "value": v} for k, v in sorted(environment.items())
                    ],
                }
            )
        request["containerDefinitions"] = containers
        family = request["family"]
        with aws_call(
            f"register version {version} of", f"task family {family}", endpoint=self.endpoint
        ):
            reply = self.ecs.register_task_definition(**request)
        return reply["taskDefinition"]["taskDefinitionArn"]

    def start(self, version: str, role: str, env: dict[str, str]) -> VersionInstance:
        arn = self.register(version, role, env)
        self._update(role, arn, self.replicas)
        self.wait_steady(role)
        instance = VersionInstance(
            version=version,
            role=role,
            endpoint=self.outputs.target_group(role),
            handle=f"{self.outputs.service(role)}|{arn}",
        )
        self.wait_healthy(instance)
        return instance

    def wait_healthy(self, instance: VersionInstance) -> None:
        """Until the track's targets are healthy, or the deadline; the caller checks healthy()."""
        if not self.wait_for_targets:
            return
        deadline = time.monotonic() + self.ready_timeout
        while not self.healthy(instance) and time.monotonic() < deadline:
            time.sleep(min(self.poll_seconds, 0.5))

    def _update(self, role: str, task_definition: str | None, count: int) -> None:
        name = self.outputs.service(role)
        args: dict[str, Any] = {
            "cluster": self.outputs.cluster,
            "service": name,
            "desiredCount": count,
        }
        if task_definition:
            args["taskDefinition"] = task_definition
        with aws_call(f"scale to {count} tasks", f"ECS service {name}", endpoint=self.endpoint):
            self.ecs.update_service(**args)

    def wait_steady(self, role: str, timeout: float | None = None) -> None:
        """Until one deployment runs the desired count (ECS's services-stable), or a deadline."""
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        while True:
            service = self.describe(role)
            deployments = service.get("deployments", [])
            if len(deployments) <= 1 and service["runningCount"] == service["desiredCount"]:
                return
            if time.monotonic() >= deadline:
                raise SandboxError(
                    f"ECS service {service['serviceName']} did not reach a steady state within "
                    f"{timeout or self.ready_timeout:.0f} s ({service['runningCount']} of "
                    f"{service['desiredCount']} tasks running); see its events in the ECS console."
                )
            time.sleep(self.poll_seconds)

    def stop(self, instance: VersionInstance) -> None:
        """Scale the track to 0, unless it has moved on to another version since."""
        service, _, arn = instance.handle.partition("|")
        role = "stable" if service == self.outputs.stable_service else "candidate"
        current = self.describe(role)
        if current["taskDefinition"] != arn or current["desiredCount"] == 0:
            return
        self._update(role, None, 0)

    def healthy(self, instance: VersionInstance) -> bool:
        """Every target registered in the track's group is healthy, and there is at least one."""
        states = self.target_health(instance.role)
        return bool(states) and all(s == "healthy" for s in states)

    def target_health(self, role: str) -> list[str]:
        group = self.outputs.target_group(role)
        with aws_call("read the target health of", f"target group {group}", endpoint=self.endpoint):
            reply = self.elbv2.describe_target_health(TargetGroupArn=group)
        return [d["TargetHealth"]["State"] for d in reply["TargetHealthDescriptions"]]

    def roll_stable_to(self, candidate: VersionInstance) -> None:
        """Finalize, before traffic returns to stable: the stable service runs the candidate."""
        _, _, arn = candidate.handle.partition("|")
        self._update("stable", arn, self.replicas)
        self.wait_steady("stable")
        self.wait_healthy(candidate.model_copy(update={"role": "stable"}))

    def rename(self, instance: VersionInstance, role: str) -> VersionInstance:
        """After roll_stable_to, the candidate's version is the stable track's: free the canary
        (once the stable service is steady, so a roll a killed run left half done finishes
        before the canary's tasks go)."""
        if role == instance.role:
            return instance
        if role == "stable":
            self.wait_steady("stable")
            canary = self.describe("candidate")
            if canary["desiredCount"]:
                self._update("candidate", None, 0)
        current = self.describe(role)
        return VersionInstance(
            version=instance.version,
            role=role,
            endpoint=self.outputs.target_group(role),
            handle=f"{current['serviceName']}|{current['taskDefinition']}",
        )


def _task_definition(instance: VersionInstance) -> str:
    return instance.handle.partition("|")[2]
