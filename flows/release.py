"""The release pipeline, in the order of its diagram.

guard (one release per environment) → test → plan → policy → approve → apply → backup →
migrate → canary 10/50/100 → finalize, or rollback; the report is published whatever happens.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, pause_flow_run
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from prefect.states import Failed, State

from petswipe_ops import pipeline
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import OpsError
from petswipe_ops.gates import Verdict
from petswipe_ops.platform import open_platform
from petswipe_ops.platform.seams import VersionInstance
from petswipe_ops.record import Outcome
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.report import render_markdown, render_summary
from tasks import release as stages
from tasks.concurrency import release_slot


class Approval(RunInput):
    """The approval form shown in the Prefect UI when a release pauses."""

    approve: bool = True
    reason: str = ""


@flow(name="release", flow_run_name="release-{request.environment}-{request.version}")
def release(request: ReleaseRequest) -> str:
    """Release `request.version` to `request.environment`; fails (rolled back) on any error."""
    return _release(request, full=True)


@flow(name="deploy-canary", flow_run_name="canary-{request.environment}-{request.version}")
def deploy_canary(request: ReleaseRequest) -> str:
    """Only the traffic part of a release: candidate, canary steps, finalize or rollback."""
    return _release(request, full=False)


def _release(request: ReleaseRequest, *, full: bool) -> str | State:
    """Guard, lock the environment, run the stages; a refused or rolled-back release
    ends the run Failed with its reason (no traceback: it is an outcome, not a crash)."""
    try:
        config = stages.guard(request)
        with release_slot(config), pipeline.release_lock(config, request.version):
            book = pipeline.ledger(config.environment)
            record = book.create(config.environment, request.version, str(request.fault or "none"))
            try:
                _run(record.release_id, config, request, full=full)
            finally:
                _publish(record.release_id, config)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    return render_summary(book.load(record.release_id))


def _run(
    release_id: str, config: EnvironmentConfig, request: ReleaseRequest, *, full: bool
) -> None:
    book = pipeline.ledger(config.environment)
    changed = False
    try:
        stable_version = stages.prepare(release_id, config)
        if full:
            stages.infra_tests(release_id, config)
            planned = stages.plan(release_id, config, request.version, stable_version)
            stages.check_policies(release_id, config, request.version)
            changed = True
            _approve(release_id, config, request, planned.headline())
            stages.apply(release_id, config, planned)
            stages.backup(release_id, config)
            stages.migrate(release_id, config)
        changed = True
        candidate = stages.start_candidate(release_id, config, request)
        _canary(release_id, config, candidate, request.error_budget_remaining)
        weights = stages.finalize(release_id, config, candidate)
        book.finish(release_id, Outcome.PROMOTED, f"{request.version} promoted to 100 %", weights)
    except Exception as exc:
        reason = str(exc)
        if changed:
            weights = stages.rollback(release_id, config, reason)
            book.finish(release_id, Outcome.ROLLED_BACK, f"rolled back: {reason}", weights)
        else:
            book.finish(release_id, Outcome.REFUSED, f"refused before any change: {reason}")
        raise pipeline.ReleaseFailed(book.load(release_id).reason) from exc


def _approve(
    release_id: str, config: EnvironmentConfig, request: ReleaseRequest, plan: str
) -> None:
    book = pipeline.ledger(config.environment)
    if request.auto_approve or not config.approval.required:
        book.decide(release_id, "approve", "approved", "auto-approved by the request", {})
        return
    get_run_logger().info("waiting for approval of %s (plan: %s)", request.version, plan)
    answer = _wait_for_person(config)
    verdict = "approved" if answer.approve else "rejected"
    book.decide(release_id, "approve", verdict, answer.reason or verdict, {"plan": plan})
    if not answer.approve:
        raise pipeline.ReleaseFailed(f"rejected at approval: {answer.reason or 'no reason given'}")


def _wait_for_person(config: EnvironmentConfig) -> Approval:
    """Pause until a person answers the Approval form; no answer in time is a rejection."""
    timeout = config.approval.timeout_seconds
    try:
        return pause_flow_run(wait_for_input=Approval, timeout=timeout, poll_interval=2)
    except FlowPauseTimeout:
        return Approval(approve=False, reason=f"no answer within {timeout} s")


def _ask_person(release_id: str, config: EnvironmentConfig, question: str) -> None:
    """Pause for a person: approve to observe the step again, reject to roll back."""
    get_run_logger().warning("canary needs a decision: %s", question)
    answer = _wait_for_person(config)
    verdict = "continue" if answer.approve else "rollback"
    pipeline.ledger(config.environment).decide(
        release_id, "canary-timeout", verdict, answer.reason or question, {}
    )
    if not answer.approve:
        raise pipeline.ReleaseFailed(f"stopped by a person: {answer.reason or question}")


def _canary(
    release_id: str,
    config: EnvironmentConfig,
    candidate: VersionInstance,
    budget_remaining: float | None,
) -> None:
    steps = config.canary.steps
    progress = create_progress_artifact(
        0, key=f"canary-{config.environment}", description="canary traffic shifted"
    )
    with open_platform(config).canary_traffic(release_id) as traffic:
        for index, weight in enumerate(steps, start=1):
            result = stages.canary_step(
                release_id, config, candidate, weight, traffic, budget_remaining
            )
            while result.timed_out and result.verdict is Verdict.CONTINUE:
                _ask_person(release_id, config, f"{weight}% step: {result.decision.reason}")
                result = stages.canary_step(
                    release_id, config, candidate, weight, traffic, budget_remaining
                )
            update_progress_artifact(
                progress,
                100 * index / len(steps),
                description=f"{weight}%: {result.verdict.value}",
            )
            if result.verdict is not Verdict.PROMOTE:
                raise pipeline.ReleaseFailed(f"canary gate at {weight}%: {result.decision.reason}")


def _publish(release_id: str, config: EnvironmentConfig) -> None:
    record = pipeline.ledger(config.environment).load(release_id)
    create_markdown_artifact(
        render_markdown(record),
        key=f"release-{config.environment}",
        description=render_summary(record),
    )
