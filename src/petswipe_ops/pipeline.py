"""The release pipeline's stages as plain functions, one per box of the diagram.

Each takes what it needs and returns what the next stage or the report needs;
the Prefect flow only orders them, records them and handles pauses.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from petswipe_ops import migrations, policy
from petswipe_ops.config import EnvironmentConfig, PlatformKind, load_environment
from petswipe_ops.errors import ConfigError, OpsError
from petswipe_ops.gates.budget import check_error_budget
from petswipe_ops.locks import environment_lock
from petswipe_ops.manifest import build_manifest
from petswipe_ops.paths import cache_dir, migrations_dir, project_root, run_dir
from petswipe_ops.platform import open_platform
from petswipe_ops.platform.aws.sandbox.state import sandboxed
from petswipe_ops.platform.seams import Platform
from petswipe_ops.record import ReleaseLedger
from petswipe_ops.release import ReleaseRequest, parse_parameters
from petswipe_ops.slo.freeze import BudgetVerdict, check_release_budget
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


RELEASE_METHODS = {
    "router": ("state", "point_stable", "detach_candidate", "attach_candidate"),
    "platform": ("end_canary_traffic", "canary_traffic"),
}
"""What the release state machine asks of a platform beyond reading metrics."""


def guard(request: ReleaseRequest) -> EnvironmentConfig:
    """Refuse a release that cannot succeed, before anything is changed."""
    config = load_environment(request.environment, project_root())
    sandbox = config.platform is PlatformKind.LOCAL or sandboxed(config.environment)
    if request.fault and not sandbox:
        raise ConfigError(
            "faults can only be injected into a sandbox (the local one, or the AWS sandbox "
            "of make aws-sandbox-up); drop `fault`."
        )
    if request.error_budget_remaining is not None:
        check_error_budget(request.error_budget_remaining)
    if request.budget_override_reason is not None and not request.budget_override_reason.strip():
        raise ConfigError("an error-budget override needs a reason; say why the release must go.")
    platform = open_platform(config)
    platform.preflight()
    missing = [
        f"{part}.{method}"
        for part, target in (("router", platform.router), ("platform", platform))
        for method in RELEASE_METHODS[part]
        if not callable(getattr(target, method, None))
    ]
    if missing:
        raise ConfigError(
            f"releases to '{config.environment}' need {', '.join(missing)} from its "
            f"{config.platform.value} adapters (reconcile reads the router's real state back "
            "and finalize points the stable side at the candidate); until they have them, "
            "release to 'local'."
        )
    find_terraform()
    return config


def release_budget(config: EnvironmentConfig, request: ReleaseRequest) -> BudgetVerdict:
    """The error budget this release goes with: the one the request states, else the latest
    SLO report's; a spent one raises ErrorBudgetSpent with the figures, unless the request
    gives an override reason (which is recorded)."""
    if request.error_budget_remaining is not None:
        check_error_budget(request.error_budget_remaining)
        return BudgetVerdict(
            environment=config.environment,
            budget_remaining=request.error_budget_remaining,
            tighten=request.error_budget_remaining < config.canary.sequential.budget_tighten_below,
            note=f"{request.error_budget_remaining:.0%} of the error budget left, as the request "
            "states",
        )
    return check_release_budget(config.environment, request.budget_override_reason, config=config)


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


def terraform_for(config: EnvironmentConfig) -> Terraform:
    root = project_root() / "terraform" / "environments" / config.environment
    return Terraform(root, run_dir(config.environment) / "terraform")


def infra_tests(config: EnvironmentConfig) -> dict[str, Any]:
    """terraform fmt/validate on the environment's root, the rego policies' own tests, and
    the infra tests on the root's plan (encryption, HA, scaling, network, policies)."""
    from petswipe_ops.infra_tests import require_infra_tests

    tf = terraform_for(config)
    tf.check_format()
    tf.init()
    tf.validate()
    tests = policy.run_policy_tests(
        project_root() / "policies",
        passed_cache=cache_dir() / "policy-tests",
    )
    failed = [t for t in tests.results if not t.passed]
    if failed:
        names = ", ".join(f"{t.package}.{t.name}" for t in failed)
        raise ReleaseFailed(f"{len(failed)} policy tests failed: {names}; fix the policies.")
    on_plan = require_infra_tests(config, project_root())
    return {
        "terraform": f"fmt and validate passed; {on_plan['infra_tests']}",
        "policy_tests": len(tests.results),
        **on_plan,
    }


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


def migrate(
    platform: Platform, on_step: Callable[[migrations.MigrationStep], None] | None = None
) -> list[migrations.MigrationStep]:
    return migrations.upgrade(platform.database.url, migrations_dir(), on_step=on_step)


def backup(config: EnvironmentConfig, key: SecretStr) -> dict[str, Any]:
    """A backup before migrating: its id, tier and checksum for the release record."""
    from petswipe_ops.backup import operations

    manifest = operations.backup(operations.BackupTarget(config), key).manifest
    return {"backup_id": manifest.id, "tier": manifest.tier.value, "sha256": manifest.sha256}


class PipelineTools:
    """The release's tools as this module runs them: terraform, rego, alembic, backups."""

    infra_tests = staticmethod(infra_tests)
    plan = staticmethod(plan)
    check_policies = staticmethod(check_policies)
    backup = staticmethod(backup)

    @staticmethod
    def apply(config: EnvironmentConfig, plan_file: str | Path) -> dict[str, Any]:
        return apply(config, Path(plan_file))

    @staticmethod
    def migrate(
        platform: Platform, on_step: Callable[[migrations.MigrationStep], None]
    ) -> list[migrations.MigrationStep]:
        return migrate(platform, on_step)
