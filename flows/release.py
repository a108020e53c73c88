"""The release pipeline, in the order of its diagram.

guard (one release per environment) → test → plan → policy → approve → apply → backup →
migrate → canary 10/50/100 → finalize; any failure or interruption → the release run's
one idempotent abort (rollback); the report is published whatever happens.
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
from prefect.states import Cancelled, Failed, State

from petswipe_ops import pipeline
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import OpsError, ReleaseCancelled
from petswipe_ops.gates import Verdict
from petswipe_ops.platform.seams import VersionInstance
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import (
    ApprovalAnswer,
    ReleaseNotPromoted,
    ReleaseResult,
    ReleaseRun,
)
from petswipe_ops.report import render_markdown, render_summary
from petswipe_ops.shield import signals_held
from tasks import release as stages
from tasks.concurrency import release_slot
from tasks.interruption import cause_of, converge_after, current_flow_run_id, label_run


class Approval(RunInput):
    """The approval form shown in the Prefect UI when a release pauses."""

    approve: bool = True
    approver: str = ""
    reason: str = ""


@flow(
    name="release",
    flow_run_name="release-{request.environment}-{request.version}",
    on_crashed=[converge_after],
    on_cancellation=[converge_after],
)
def release(request: ReleaseRequest) -> ReleaseResult | State:
    """Release `request.version` to `request.environment`; fails (rolled back) on any error."""
    return _release(request, full=True)


@flow(
    name="deploy-canary",
    flow_run_name="canary-{request.environment}-{request.version}",
    on_crashed=[converge_after],
    on_cancellation=[converge_after],
)
def deploy_canary(request: ReleaseRequest) -> ReleaseResult | State:
    """Only the traffic part of a release, still behind policy and approval."""
    return _release(request, full=False)


def _release(request: ReleaseRequest, *, full: bool) -> ReleaseResult | State:
    """Guard, hold the environment, run the stages; a refused or rolled-back release ends
    the run Failed (Cancelled when cancelled) with its reason and result."""
    label_run()
    try:
        config = stages.guard(request)
        with release_slot(config), pipeline.release_lock(config, request.version):
            run = ReleaseRun.begin(config, request, flow_run_id=current_flow_run_id())
            return _run(run, request, full=full)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))


def _run(run: ReleaseRun, request: ReleaseRequest, *, full: bool) -> ReleaseResult | State:
    try:
        _stages(run, request, full=full)
    except BaseException as exc:
        result = _abort(run, exc)
        if isinstance(exc, ReleaseCancelled):
            return Cancelled(message=result.reason, data=ReleaseNotPromoted(result))
        if isinstance(exc, Exception):
            return Failed(message=result.reason, data=ReleaseNotPromoted(result))
        raise
    finally:
        _publish(run)
    return run.result()


def _stages(run: ReleaseRun, request: ReleaseRequest, *, full: bool) -> None:
    stages.prepare(run)
    planned = None
    if full:
        stages.infra_tests(run)
        planned = stages.plan(run)
    stages.check_policies(run)
    _approve(run, request, planned.headline() if planned else "canary only, no plan")
    if planned is not None:
        stages.apply(run, planned)
        stages.backup(run)
        stages.migrate(run)
    candidate = stages.start_candidate(run, request.fault)
    _canary(run, candidate)
    stages.finalize(run, candidate)


def _abort(run: ReleaseRun, exc: BaseException) -> ReleaseResult:
    """The one rollback path of every failure and interruption; a second signal waits."""
    logger = get_run_logger()
    cause = cause_of(exc)
    logger.error("release stopping: %s", cause)

    def held(signum: int) -> None:
        logger.warning("signal %d while rolling back: traffic goes back to stable first", signum)

    with signals_held(held):
        result = run.abort(cause)
    logger.info("%s", result.summary)
    return result


def _approve(run: ReleaseRun, request: ReleaseRequest, plan: str) -> None:
    if run.approve_automatically(request):
        return
    get_run_logger().info("waiting for approval of %s (plan: %s)", request.version, plan)
    run.record_approval(_wait_for_person(run.config), plan)


def _wait_for_person(config: EnvironmentConfig) -> ApprovalAnswer:
    """Pause until a person answers the Approval form; no answer in time is a rejection."""
    timeout = config.approval.timeout_seconds
    try:
        answer = pause_flow_run(wait_for_input=Approval, timeout=timeout, poll_interval=2)
    except FlowPauseTimeout:
        return ApprovalAnswer(approve=False, approver="", reason=f"no answer within {timeout} s")
    return ApprovalAnswer(
        approve=answer.approve,
        approver=answer.approver or "an unnamed approver in the Prefect UI",
        reason=answer.reason,
    )


def _canary(run: ReleaseRun, candidate: VersionInstance) -> None:
    config = run.config
    steps = config.canary.steps
    progress = create_progress_artifact(
        0, key=f"canary-{config.environment}", description="canary traffic shifted"
    )
    with run.platform.canary_traffic(run.release_id) as traffic:
        for index, weight in enumerate(steps, start=1):
            result = stages.canary_step(run, candidate, weight, traffic)
            while result.timed_out and result.verdict is Verdict.CONTINUE:
                question = f"{weight}% step: {result.decision.reason}"
                get_run_logger().warning("canary needs a decision: %s", question)
                run.keep_observing(_wait_for_person(config), question)
                result = stages.canary_step(run, candidate, weight, traffic)
            update_progress_artifact(
                progress,
                100 * index / len(steps),
                description=f"{weight}%: {result.verdict.value}",
            )
            if result.verdict is not Verdict.PROMOTE:
                raise pipeline.ReleaseFailed(f"canary gate at {weight}%: {result.decision.reason}")


def _publish(run: ReleaseRun) -> None:
    record = run.record
    create_markdown_artifact(
        render_markdown(record),
        key=f"release-{record.environment}",
        description=render_summary(record),
    )
