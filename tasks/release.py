"""Thin Prefect tasks over the library's release stages; each records itself in the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from petswipe_ops import pipeline
from petswipe_ops.backup import operations as backup_operations
from petswipe_ops.canary import StepResult
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.gates import GateDecision
from petswipe_ops.platform import open_platform
from petswipe_ops.platform.seams import Traffic, VersionInstance
from petswipe_ops.release import ReleaseRequest
from tasks import backup as backup_steps

stage_task = task(cache_policy=NO_CACHE, retries=0)
LOG_EVERY_SECONDS = 3.0


@stage_task(name="guard")
def guard(request: ReleaseRequest) -> EnvironmentConfig:
    return pipeline.guard(request)


@stage_task(name="prepare sandbox")
def prepare(release_id: str, config: EnvironmentConfig) -> str:
    book = pipeline.ledger(config.environment)
    with book.stage(release_id, "prepare") as stage:
        platform = open_platform(config)
        platform.up()
        reconciled = pipeline.reconcile(config, platform, release_id)
        stable = platform.services.instance("stable")
        stable_version = stable.version if stable else "none"
        stage.summary = f"stable {stable_version} serving"
        if reconciled:
            stage.summary += f"; rolled back unfinished releases {', '.join(reconciled)}"
        book.update(release_id, stable_version=stable_version)
    return stable_version


@stage_task(name="infra tests")
def infra_tests(release_id: str, config: EnvironmentConfig) -> dict[str, Any]:
    with pipeline.ledger(config.environment).stage(release_id, "test") as stage:
        result = pipeline.infra_tests(config)
        stage.summary = f"{result['terraform']}; {result['policy_tests']} policy tests passed"
        stage.details = result
    return result


@stage_task(name="terraform plan")
def plan(
    release_id: str, config: EnvironmentConfig, version: str, stable_version: str
) -> pipeline.PlannedChange:
    with pipeline.ledger(config.environment).stage(release_id, "plan") as stage:
        plan_file = pipeline.plan_file(config.environment, release_id)
        planned = pipeline.plan(config, version, stable_version, plan_file)
        stage.summary = planned.headline()
        stage.details = planned.summary.model_dump()
    return planned


@stage_task(name="policy")
def check_policies(release_id: str, config: EnvironmentConfig, version: str) -> None:
    book = pipeline.ledger(config.environment)
    with book.stage(release_id, "policy") as stage:
        try:
            report = pipeline.check_policies(config, version)
        except Exception as exc:
            book.decide(release_id, "policy", "deny", str(exc), {})
            raise
        stage.summary = f"{len(report.policies)} policy packages allow the deployment"
        book.decide(release_id, "policy", "allow", stage.summary, {"policies": report.policies})


@stage_task(name="terraform apply")
def apply(release_id: str, config: EnvironmentConfig, planned: pipeline.PlannedChange) -> None:
    with pipeline.ledger(config.environment).stage(release_id, "apply") as stage:
        outputs = pipeline.apply(config, Path(planned.plan_file))
        stage.summary = f"applied the saved plan {planned.plan_file.rsplit('/', 1)[-1]}"
        stage.details = {"outputs": outputs}


@stage_task(name="backup before migration")
def backup(release_id: str, config: EnvironmentConfig) -> str | None:
    """Back up the database when the environment asks for it; the id goes in the record."""
    if not config.backup.before_migration:
        return None
    book = pipeline.ledger(config.environment)
    with book.stage(release_id, "backup") as stage:
        target, key = backup_steps.target_and_key(config)
        manifest = backup_operations.backup(target, key).manifest
        stage.summary = f"backup {manifest.id} ({manifest.tier.value}) taken before migrating"
        stage.details = {"backup_id": manifest.id, "sha256": manifest.sha256}
    book.decide(release_id, "backup", "taken", stage.summary, {"backup_id": manifest.id})
    return manifest.id


@stage_task(name="migrate")
def migrate(release_id: str, config: EnvironmentConfig) -> None:
    logger = get_run_logger()
    with pipeline.ledger(config.environment).stage(release_id, "migrate") as stage:
        steps = pipeline.migrate(open_platform(config))
        for step in steps:
            logger.info("migration %s applied in %.0f ms", step.revision, step.execution_ms)
        stage.summary = (
            f"applied {', '.join(s.revision for s in steps)}" if steps else "schema already at head"
        )
        stage.details = {"steps": [s.model_dump(mode="json") for s in steps]}


@stage_task(name="start candidate")
def start_candidate(
    release_id: str, config: EnvironmentConfig, request: ReleaseRequest
) -> VersionInstance:
    with pipeline.ledger(config.environment).stage(release_id, "candidate") as stage:
        candidate = pipeline.start_candidate(open_platform(config), request)
        stage.summary = f"{candidate.version} healthy at {candidate.endpoint}, weight 0"
    return candidate


@stage_task(name="canary step")
def canary_step(
    release_id: str,
    config: EnvironmentConfig,
    candidate: VersionInstance,
    weight: int,
    traffic: Traffic,
    budget_remaining: float | None = None,
) -> StepResult:
    logger = get_run_logger()
    book = pipeline.ledger(config.environment)
    logged_at = -LOG_EVERY_SECONDS

    def observed(decision: GateDecision, elapsed: float) -> None:
        """The gate looks several times a second; the log gets a line every few seconds."""
        nonlocal logged_at
        if elapsed - logged_at >= LOG_EVERY_SECONDS:
            logged_at = elapsed
            logger.info("%d%% after %.1f s: %s", weight, elapsed, decision.reason)

    def read_failed(exc: Exception, failures: int) -> None:
        logger.warning("%s Forgiven (%d in a row); reading again.", exc, failures)

    with book.stage(release_id, f"canary {weight}%") as stage:
        result = pipeline.canary_step(
            open_platform(config),
            candidate,
            weight,
            traffic,
            budget_remaining,
            on_observation=observed,
            on_read_error=read_failed,
        )
        evidence = {
            **result.decision.evidence,
            "weight": weight,
            "router": result.router_weights.model_dump(),
            "observations": result.observations,
        }
        book.decide(release_id, "canary", result.verdict.value, result.decision.reason, evidence)
        stage.summary = f"{result.verdict.value}: {result.decision.reason}"
        if result.verdict.value != "promote":
            stage.status = "failed"
    return result


@stage_task(name="finalize")
def finalize(release_id: str, config: EnvironmentConfig, candidate: VersionInstance) -> dict:
    book = pipeline.ledger(config.environment)
    with book.stage(release_id, "finalize") as stage:
        weights = pipeline.finalize(open_platform(config), candidate)
        stage.summary = f"{candidate.version} is stable; previous version stopped"
    book.decide(release_id, "finalize", "promote", stage.summary, {"router": weights})
    return weights


@stage_task(name="rollback")
def rollback(release_id: str, config: EnvironmentConfig, reason: str) -> dict:
    book = pipeline.ledger(config.environment)
    with book.stage(release_id, "rollback") as stage:
        weights = pipeline.rollback(open_platform(config))
        stage.summary = (
            f"router stable {weights['stable']} % / candidate {weights['candidate']} %; "
            "candidate stopped; schema kept (migrations are backward compatible, "
            "`make db-rollback` downgrades)"
        )
    book.decide(release_id, "rollback", "rollback", reason, {"router": weights})
    return weights
