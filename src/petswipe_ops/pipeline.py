"""The release pipeline's stages as plain functions, one per box of the diagram.

Each takes what it needs and returns what the next stage or the report needs;
the Prefect flow only orders them, records them and handles pauses.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from petswipe_ops import migrations, policy
from petswipe_ops.canary import StepResult, run_step
from petswipe_ops.config import EnvironmentConfig, PlatformKind, load_environment
from petswipe_ops.errors import ConfigError, OpsError
from petswipe_ops.gates import build_gate
from petswipe_ops.gates.budget import check_error_budget
from petswipe_ops.locks import environment_lock
from petswipe_ops.manifest import build_manifest
from petswipe_ops.paths import migrations_dir, project_root, run_dir
from petswipe_ops.platform import open_platform
from petswipe_ops.platform.seams import Platform, Traffic, VersionInstance
from petswipe_ops.record import Outcome, ReleaseLedger
from petswipe_ops.release import Fault, ReleaseRequest, parse_parameters
from petswipe_ops.terraform import PlanSummary, Terraform, find_terraform, summarize_plan


class ReleaseFailed(OpsError):
    """The release did not go through; the run ends Failed with this reason."""

    exit_code = 1


class PlannedChange(BaseModel):
    plan_file: str
    summary: PlanSummary

    def headline(self) -> str:
        """`2 outputs change, 0 resources` — what an approver reads first."""
        resources = sum(n for a, n in self.summary.counts.items() if a.value != "no-op")
        outputs = [o.name for o in self.summary.outputs if o.action.value != "no-op"]
        return f"{resources} resource changes, outputs changing: {', '.join(outputs) or 'none'}"


def validate_request(raw: dict[str, Any] | ReleaseRequest) -> ReleaseRequest:
    """The request as a model; a bad field is one ConfigError sentence."""
    return parse_parameters(ReleaseRequest, raw, "release")


def guard(request: ReleaseRequest) -> EnvironmentConfig:
    """Refuse a release that cannot succeed, before anything is changed."""
    config = load_environment(request.environment, project_root())
    if request.fault and config.platform is not PlatformKind.LOCAL:
        raise ConfigError("faults can only be injected into the local sandbox; drop `fault`.")
    if request.error_budget_remaining is not None:
        check_error_budget(request.error_budget_remaining)
    open_platform(config).preflight()
    find_terraform()
    return config


def ledger(environment: str) -> ReleaseLedger:
    return ReleaseLedger(run_dir(environment) / "releases")


def release_lock(config: EnvironmentConfig, holder: str) -> AbstractContextManager[None]:
    """Held for a whole release: one release per environment at a time."""
    return environment_lock(
        run_dir(config.environment) / "release.lock", config.environment, holder
    )


def plan_file(environment: str, name: str) -> Path:
    """Where a saved terraform plan of `environment` is kept until it is applied."""
    return run_dir(environment) / "terraform" / f"{name}.tfplan"


def reconcile(config: EnvironmentConfig, platform: Platform, current: str) -> list[str]:
    """Roll back what a crashed earlier release left behind; return their ids.

    Called while `current` holds the environment's lock, so any other unfinished
    record belongs to a run that is gone.
    """
    book = ledger(config.environment)
    crashed = [r for r in book.unfinished() if r.release_id != current]
    if crashed:
        rollback(platform)
    for record in crashed:
        book.finish(
            record.release_id,
            Outcome.ROLLED_BACK,
            "the run ended without finishing; the next release put traffic back on stable",
            platform.router.get_weights().model_dump(),
        )
    return [r.release_id for r in crashed]


def terraform_for(config: EnvironmentConfig) -> Terraform:
    root = project_root() / "terraform" / "environments" / config.environment
    return Terraform(root, run_dir(config.environment) / "terraform")


def infra_tests(config: EnvironmentConfig) -> dict[str, Any]:
    """terraform fmt/validate on the environment's root and the rego policies' own tests."""
    tf = terraform_for(config)
    tf.check_format()
    tf.init()
    tf.validate()
    tests = policy.run_policy_tests(project_root() / "policies")
    failed = [t for t in tests.results if not t.passed]
    if failed:
        names = ", ".join(f"{t.package}.{t.name}" for t in failed)
        raise ReleaseFailed(f"{len(failed)} policy tests failed: {names}; fix the policies.")
    return {"terraform": "fmt and validate passed", "policy_tests": len(tests.results)}


def plan(
    config: EnvironmentConfig, version: str, stable_version: str, plan_file: Path
) -> PlannedChange:
    tf = terraform_for(config)
    tf.init()
    tf.plan(
        {
            "environment": config.environment,
            "release_version": version,
            "stable_version": stable_version,
            "candidate_weight": "0",
        },
        plan_file,
    )
    return PlannedChange(plan_file=str(plan_file), summary=summarize_plan(tf.show_json(plan_file)))


def apply(config: EnvironmentConfig, plan_file: Path) -> dict[str, Any]:
    """Apply the saved plan (and only it); return the root's outputs."""
    tf = terraform_for(config)
    tf.apply(plan_file)
    return tf.outputs()


def check_policies(config: EnvironmentConfig, version: str) -> policy.PolicyReport:
    return policy.enforce(build_manifest(config, version), project_root() / "policies")


def migrate(platform: Platform) -> list[migrations.MigrationStep]:
    return migrations.upgrade(platform.database.url, migrations_dir())


def start_candidate(platform: Platform, request: ReleaseRequest) -> VersionInstance:
    """Start the candidate, check its health, and attach it to the router at weight 0."""
    existing = platform.services.instance("candidate")
    if existing is not None:
        platform.router.detach_candidate()
        platform.services.stop(existing)
    candidate = platform.services.start(
        request.version, "candidate", Fault.parse(request.fault).as_env()
    )
    if not platform.services.healthy(candidate):
        raise ReleaseFailed(f"candidate {request.version} failed its health check.")
    platform.router.attach_candidate(candidate)
    return candidate


def canary_step(
    platform: Platform,
    candidate: VersionInstance,
    weight: int,
    traffic: Traffic,
    budget_remaining: float | None = None,
    on_observation=lambda decision, elapsed: None,
    on_read_error=lambda exc, failures: None,
) -> StepResult:
    stable = platform.services.instance("stable")
    if stable is None:
        raise ReleaseFailed("the stable version is not running; start it with `make sandbox-up`.")
    config = platform.config
    return run_step(
        weight=weight,
        router=platform.router,
        metrics=platform.metrics,
        candidate=candidate,
        stable=stable,
        gate=build_gate(config.canary, budget_remaining),
        canary=config.canary,
        slo=config.slo,
        on_observation=on_observation,
        traffic_alive=traffic.check_running,
        on_read_error=on_read_error,
    )


def finalize(platform: Platform, candidate: VersionInstance) -> dict[str, int]:
    """The candidate becomes stable; the old stable version stops."""
    old = platform.services.instance("stable")
    platform.router.promote_candidate(candidate)
    if old is not None:
        platform.services.stop(old)
    platform.services.rename(candidate, "stable")
    return platform.router.get_weights().model_dump()


def rollback(platform: Platform) -> dict[str, int]:
    """Traffic back to stable 100 %, candidate stopped; read back from the router itself."""
    platform.router.detach_candidate()
    candidate = platform.services.instance("candidate")
    if candidate is not None:
        platform.services.stop(candidate)
    return platform.router.get_weights().model_dump()
