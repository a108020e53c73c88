"""Thin Prefect tasks over the release run's stages: one line of work each, plus logging."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from petswipe_ops import pipeline
from petswipe_ops.canary import StepResult
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.gates import GateDecision
from petswipe_ops.migrations import MigrationStep
from petswipe_ops.platform.seams import Traffic, VersionInstance, Weights
from petswipe_ops.policy import PolicyReport
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import ReleaseRun
from tasks import backup as backup_steps
from tasks.interruption import raise_if_cancelled

stage_task = task(cache_policy=NO_CACHE, retries=0)
LOG_EVERY_SECONDS = 3.0


@stage_task(name="guard")
def guard(request: ReleaseRequest) -> EnvironmentConfig:
    return pipeline.guard(request)


@stage_task(name="prepare")
def prepare(run: ReleaseRun) -> str:
    return run.prepare()


@stage_task(name="infra tests")
def infra_tests(run: ReleaseRun) -> dict[str, Any]:
    return run.infra_tests()


@stage_task(name="terraform plan")
def plan(run: ReleaseRun) -> pipeline.PlannedChange:
    return run.plan()


@stage_task(name="policy")
def check_policies(run: ReleaseRun) -> PolicyReport:
    return run.check_policies()


@stage_task(name="terraform apply")
def apply(run: ReleaseRun, planned: pipeline.PlannedChange) -> dict[str, Any]:
    return run.apply(planned)


@stage_task(name="backup before migration")
def backup(run: ReleaseRun) -> str | None:
    needed = run.config.backup.before_migration
    return run.backup(backup_steps.target_and_key(run.config)[1] if needed else None)


@stage_task(name="migrate")
def migrate(run: ReleaseRun) -> None:
    logger = get_run_logger()

    def applied(step: MigrationStep) -> None:
        logger.info("migration %s applied in %.0f ms", step.revision, step.execution_ms)

    run.migrate(on_step=applied)


@stage_task(name="start candidate")
def start_candidate(run: ReleaseRun, fault: str | None) -> VersionInstance:
    return run.start_candidate(fault)


@stage_task(name="canary step")
def canary_step(
    run: ReleaseRun,
    candidate: VersionInstance,
    weight: int,
    traffic: Traffic,
) -> StepResult:
    logger = get_run_logger()
    logged_at = -LOG_EVERY_SECONDS

    def observed(decision: GateDecision, elapsed: float) -> None:
        """The gate looks several times a second; the log gets a line every few seconds."""
        nonlocal logged_at
        if elapsed - logged_at >= LOG_EVERY_SECONDS:
            logged_at = elapsed
            logger.info("%d%% after %.1f s: %s", weight, elapsed, decision.reason)

    def read_failed(exc: Exception, failures: int) -> None:
        logger.warning("%s Forgiven (%d in a row); reading again.", exc, failures)

    return run.canary_step(
        candidate,
        weight,
        traffic,
        on_observation=observed,
        on_read_error=read_failed,
        should_stop=raise_if_cancelled,
    )


@stage_task(name="finalize")
def finalize(run: ReleaseRun, candidate: VersionInstance) -> Weights:
    return run.finalize(candidate)
