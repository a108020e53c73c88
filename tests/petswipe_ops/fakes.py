"""An in-memory platform behind the seams, so the release state machine is tested in
milliseconds. It models what the real router does (two servers, each with an address,
a weight and a parked flag) closely enough for reconcile's rules; the real-server tests
run the same state machine on HAProxy and real processes."""

from __future__ import annotations

import itertools
import math
from typing import Any

from pydantic import SecretStr

from petswipe_ops import pipeline
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import SandboxError
from petswipe_ops.metrics import VersionMetrics
from petswipe_ops.platform.seams import RouterState, VersionInstance, Weights
from petswipe_ops.policy import PolicyReport
from petswipe_ops.terraform import PlanSummary


class FakeRouter:
    def __init__(self) -> None:
        self.up = True
        self.stable_target: str | None = None
        self.candidate_target: str | None = None
        self.parked = True
        self.weights = Weights(stable=100, candidate=0)

    def _check(self) -> None:
        if not self.up:
            raise SandboxError("the fake router is down.")

    def get_weights(self) -> Weights:
        self._check()
        return self.weights

    def state(self) -> RouterState:
        self._check()
        return RouterState(
            weights=self.weights,
            stable_target=self.stable_target,
            candidate_target=None if self.parked else self.candidate_target,
        )

    def set_candidate_weight(self, percent: int) -> Weights:
        self._check()
        self.weights = Weights(stable=100 - percent, candidate=percent)
        return self.weights

    def attach_candidate(self, instance: VersionInstance) -> None:
        self._check()
        self.candidate_target, self.parked = instance.endpoint, False
        self.weights = Weights(stable=self.weights.stable, candidate=0)

    def point_stable(self, instance: VersionInstance) -> None:
        self._check()
        self.stable_target = instance.endpoint

    def detach_candidate(self) -> None:
        self._check()
        self.weights, self.parked = Weights(stable=100, candidate=0), True

    def serving(self) -> set[str]:
        """Endpoints that receive users' requests now."""
        targets = set()
        if self.weights.stable and self.stable_target:
            targets.add(self.stable_target)
        if self.weights.candidate and not self.parked and self.candidate_target:
            targets.add(self.candidate_target)
        return targets


class FakeServices:
    def __init__(self) -> None:
        self.roles: dict[str, VersionInstance] = {}
        self.alive: set[str] = set()
        self.unhealthy: set[str] = set()
        self.stopped: list[VersionInstance] = []
        self.faults: dict[str, dict[str, str]] = {}
        self._ports = itertools.count(20000)

    def start(self, version: str, role: str, env: dict[str, str]) -> VersionInstance:
        port = next(self._ports)
        instance = VersionInstance(
            version=version, role=role, endpoint=f"http://127.0.0.1:{port}", handle=str(port)
        )
        self.roles[role] = instance
        self.alive.add(instance.handle)
        self.faults[instance.handle] = env
        return instance

    def stop(self, instance: VersionInstance) -> None:
        self.alive.discard(instance.handle)
        self.stopped.append(instance)
        if self.roles.get(instance.role, instance).handle == instance.handle:
            self.roles.pop(instance.role, None)

    def healthy(self, instance: VersionInstance) -> bool:
        return instance.handle in self.alive and instance.handle not in self.unhealthy

    def running(self) -> list[VersionInstance]:
        return [i for i in self.roles.values() if i.handle in self.alive]

    def instance(self, role: str) -> VersionInstance | None:
        found = self.roles.get(role)
        return found if found and found.handle in self.alive else None

    def rename(self, instance: VersionInstance, role: str) -> VersionInstance:
        renamed = instance.model_copy(update={"role": role})
        self.roles.pop(instance.role, None)
        self.roles[role] = renamed
        return renamed


class FakeMetrics:
    """Every read adds `per_read` requests to each version: fast, with the error share of
    the version's injected fault."""

    def __init__(self, services: FakeServices, per_read: int = 200) -> None:
        self.services, self.per_read = services, per_read
        self.counts: dict[str, VersionMetrics] = {}

    def read(self, instance: VersionInstance) -> VersionMetrics:
        fault = self.services.faults.get(instance.handle, {})
        share = float(fault.get("PETSWIPE_FAULT_ERROR_RATE", 0))
        before = self.counts.get(instance.handle, VersionMetrics())
        n = self.per_read
        errors = round(n * share)
        buckets = {0.005: n, 0.05: n, 0.5: n, 1.0: n, math.inf: n}
        after = VersionMetrics(
            requests=before.requests + n,
            errors=before.errors + errors,
            buckets={b: before.buckets.get(b, 0) + c for b, c in buckets.items()},
            latency_sum_seconds=before.latency_sum_seconds + n * 0.004,
        )
        self.counts[instance.handle] = after
        return after


class FakeTraffic:
    def check_running(self) -> None:
        return None

    def __enter__(self) -> FakeTraffic:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class FakePlatform:
    def __init__(self, config: EnvironmentConfig, stable_version: str = "1.0.0") -> None:
        self.config = config
        self.router = FakeRouter()
        self.services = FakeServices()
        self.metrics = FakeMetrics(self.services)
        self.database = None
        self.stable_version = stable_version

    def preflight(self) -> None:
        return None

    def up(self) -> None:
        self.router.up = True
        stable = self.services.instance("stable")
        if stable is None:
            stable = self.services.start(self.stable_version, "stable", {})
            self.router.point_stable(stable)

    def canary_traffic(self, release_id: str) -> FakeTraffic:
        return FakeTraffic()

    def end_canary_traffic(self) -> None:
        return None


class FakeTools:
    """Terraform, rego, alembic and backups that only record that they ran."""

    def __init__(self, deny: str | None = None) -> None:
        self.deny = deny
        self.calls: list[str] = []

    def infra_tests(self, config: EnvironmentConfig) -> dict[str, Any]:
        self.calls.append("infra_tests")
        return {"terraform": "fmt and validate passed", "policy_tests": 3}

    def plan(self, config, version, stable, plan_file) -> pipeline.PlannedChange:
        self.calls.append("plan")
        return pipeline.PlannedChange(
            plan_file=str(plan_file), summary=PlanSummary(resources={}, outputs=[])
        )

    def apply(self, config, plan_file) -> dict[str, Any]:
        self.calls.append("apply")
        return {"release_version": "x"}

    def check_policies(self, config, version) -> PolicyReport:
        self.calls.append("check_policies")
        if self.deny:
            from petswipe_ops.errors import PolicyViolation

            raise PolicyViolation(self.deny)
        return PolicyReport(policies=["deployment", "security"], violations=[])

    def backup(self, config, key: SecretStr) -> dict[str, Any]:
        self.calls.append("backup")
        return {"backup_id": "b1", "tier": "daily", "sha256": "0" * 64}

    def migrate(self, platform, on_step) -> list:
        self.calls.append("migrate")
        return []
