"""Releases: `release`, `deploy-canary`, `demo`, `reconcile`, `approve` and `ci-release`.

The commands run the release flows in this process and print the result the flow
returns; Ctrl-C or SIGTERM takes the flow's rollback path, and the command then prints
how the release ended.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import time
from typing import Annotated, Literal

import typer

from petswipe_cli.common import (
    Env,
    config_of,
    flow_run_id,
    reported,
    run_flow,
    sandbox_of,
    talks_to_prefect,
)
from petswipe_ops import pipeline
from petswipe_ops import reconcile as reconciler
from petswipe_ops.errors import OpsError
from petswipe_ops.paths import run_dir
from petswipe_ops.platform import open_platform
from petswipe_ops.release import SEMVER, ReleaseRequest
from petswipe_ops.release_run import ReleaseNotPromoted, ReleaseResult, check_approval_rules
from petswipe_ops.report import render_summary

app = typer.Typer()

Version = Annotated[str, typer.Option("--version", "-v", help="semantic version, e.g. 1.4.0")]
Fault = Annotated[
    str | None,
    typer.Option(help="local only: error_rate=0.05, client_error_rate=0.05 and/or latency_ms=800"),
]
AutoApprove = Annotated[
    bool,
    typer.Option(
        "--auto-approve/--manual-approve",
        help="skip the approval pause where approval.allow_auto permits it",
    ),
]
ErrorBudget = Annotated[
    float | None,
    typer.Option(
        help="share of the error budget left, 0..1, instead of the latest SLO report's: "
        "0 refuses, under 0.5 is stricter"
    ),
]
INTERRUPTED_EXIT = 130


def run_release(
    request: ReleaseRequest, flow_name: Literal["release", "deploy_canary"] = "release"
) -> int:
    """Run a release flow (`release` or `deploy_canary`) here and print its result; 0 only
    when the version was promoted. The flows, and Prefect with them, are imported once the
    input has passed its checks: the import takes seconds, a bad-input sentence should not."""
    config = pipeline.guard(request)
    check_approval_rules(config, request)
    from flows import release as flows

    flow = getattr(flows, flow_name)
    started = time.time()
    try:
        state = run_flow(flow, request=request)
    except KeyboardInterrupt:
        _print_interrupted(request.environment, started)
        return INTERRUPTED_EXIT
    result = state.result(raise_on_failure=False)
    if isinstance(result, ReleaseNotPromoted):
        result = result.result
    if not isinstance(result, ReleaseResult):
        typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
        return 1
    colour = typer.colors.GREEN if result.promoted else typer.colors.RED
    typer.secho(result.summary, fg=colour, bold=True)
    return 0 if result.promoted else 1


def _print_interrupted(environment: str, started: float) -> None:
    """After Ctrl-C: how this process's release ended, read from its record."""
    mine = [
        r
        for r in pipeline.ledger(environment).all()
        if r.pid == os.getpid() and r.started_at.timestamp() >= started - 1
    ]
    if mine:
        typer.secho(render_summary(mine[-1]), fg=typer.colors.RED, bold=True, err=True)
    else:
        typer.secho("interrupted before the release started", fg=typer.colors.RED, err=True)


def release_request(
    env: str,
    version: str,
    fault: str | None,
    auto_approve: bool,
    error_budget: float | None = None,
    budget_override: str | None = None,
) -> ReleaseRequest:
    return pipeline.validate_request(
        {
            "environment": env,
            "version": version,
            "fault": fault or None,
            "auto_approve": auto_approve,
            "error_budget_remaining": error_budget,
            "budget_override_reason": budget_override,
            "requested_by": os.environ.get("PETSWIPE_REQUESTED_BY") or getpass.getuser(),
        }
    )


@app.command()
@reported
@talks_to_prefect
def release(
    env: Env,
    version: Version,
    fault: Fault = None,
    auto_approve: AutoApprove = False,
    error_budget: ErrorBudget = None,
    budget_override: Annotated[
        str | None,
        typer.Option(help="release although the SLO report says the budget is spent: why"),
    ] = None,
):
    """The whole pipeline: test, plan, policy, approve, apply, backup, migrate, canary, finalize."""
    request = release_request(env, version, fault, auto_approve, error_budget, budget_override)
    raise typer.Exit(run_release(request))


@app.command("deploy-canary")
@reported
@talks_to_prefect
def deploy_canary(
    env: Env,
    version: Version,
    fault: Fault = None,
    auto_approve: AutoApprove = True,
    error_budget: ErrorBudget = None,
):
    """Only the canary, still behind policy and approval: start, climb, finalize or roll back."""
    request = release_request(env, version, fault, auto_approve, error_budget)
    raise typer.Exit(run_release(request, "deploy_canary"))


@app.command()
@reported
def reconcile(env: Env = "local"):
    """Converge unfinished releases: stable 100 / candidate 0 on a live stable version."""
    config = config_of(env)
    book = pipeline.ledger(env)
    with pipeline.release_lock(config, "reconcile"):
        convergence, finished = reconciler.settle(open_platform(config), book)
    typer.echo(convergence.sentence())
    for record in finished:
        typer.echo(f"  {render_summary(record)}")
    if not finished:
        typer.echo("no unfinished release")


@app.command()
@reported
@talks_to_prefect
def demo(env: Env = "local"):
    """Release a healthy version (promoted) and one with 5 % errors (rolled back)."""
    sandbox = sandbox_of(env)
    started = time.monotonic()
    sandbox.up()
    stable = sandbox.services.instance("stable")
    major, minor = SEMVER.match(stable.version if stable else "1.0.0").group(1, 2)
    healthy, faulty = f"{major}.{int(minor) + 1}.0", f"{major}.{int(minor) + 2}.0"
    typer.secho(f"\n▶ releasing healthy {healthy} to {env}", bold=True)
    first = run_release(release_request(env, healthy, None, True))
    typer.secho(f"\n▶ releasing faulty {faulty} (5 % errors) to {env}", bold=True)
    second = run_release(release_request(env, faulty, "error_rate=0.05", True))
    weights = sandbox.router.get_weights()
    typer.secho("\nDemo summary", bold=True)
    for record in pipeline.ledger(env).all()[-2:]:
        typer.echo(f"  {render_summary(record)}")
    typer.echo(
        f"  HAProxy now: stable {weights.stable} % / candidate {weights.candidate} %; "
        f"{time.monotonic() - started:.0f} s in all"
    )
    typer.echo(f"  Records: {run_dir(env) / 'releases'}")
    typer.echo("  The sandbox keeps running: `make sandbox-status`, `make sandbox-down`.")
    ok = first == 0 and second == 1
    if not ok:
        typer.secho("the demo did not end as expected (promote, then rollback)", fg="red", err=True)
    raise typer.Exit(0 if ok else 1)


@app.command()
@reported
@talks_to_prefect
def approve(
    run: Annotated[str, typer.Argument(help="id of the paused release's flow run")],
    reject: Annotated[bool, typer.Option("--reject", help="reject instead of approve")] = False,
    reason: Annotated[str, typer.Option(help="why; kept in the release record")] = "",
    approver: Annotated[
        str | None, typer.Option(help="who approves, for the record (default: your user name)")
    ] = None,
):
    """Answer a release paused for approval, as the UI form does."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.flow_runs import resume_flow_run

    run_id = flow_run_id(run)
    with get_client(sync_client=True) as client:
        try:
            flow_run = client.read_flow_run(run_id)
        except ObjectNotFound:
            raise OpsError(f"there is no flow run {run_id} on this Prefect server.") from None
    if flow_run.state is None or not flow_run.state.is_paused():
        state = flow_run.state.name if flow_run.state else "unknown"
        raise OpsError(f"flow run {flow_run.name} is {state}, not waiting for approval.")
    who = approver or getpass.getuser()
    resume_flow_run(run_id, run_input={"approve": not reject, "reason": reason, "approver": who})
    typer.echo(f"{'rejected' if reject else 'approved'} {flow_run.name} ({run_id}) as {who}")


@app.command("ci-release")
@reported
@talks_to_prefect
def ci_release(
    env: Env,
    version: Version,
    fault: Fault = None,
    auto_approve: AutoApprove = False,
    timeout: Annotated[int, typer.Option(help="seconds to wait for the release")] = 7200,
):
    """`prefect deployment run release/<env> --watch`; exit 0 only when the release is promoted."""
    from petswipe_ops.prefect_stack import prefect_command
    from petswipe_ops.proc import run

    config_of(env)
    request = release_request(env, version, fault, auto_approve)
    params = json.dumps({"request": request.model_dump(exclude_none=True)})
    args = [*prefect_command(), "deployment", "run", f"release/{env}", "--params", params]
    args += ["--watch", "--watch-timeout", str(timeout)]
    done = run(args, timeout=timeout + 120, check=False, env={"COLUMNS": "200"})
    typer.echo(done.stdout.rstrip())
    found = re.search(r"UUID: ([0-9a-f-]{36})", done.stdout)
    if found is None:
        detail = (done.stderr or done.stdout).strip().splitlines()
        last = detail[-1].rstrip(".!") if detail else "no output"
        raise OpsError(
            f"release/{env} could not be run ({last}); check PREFECT_API_URL and that "
            "`prefect deploy --all` (or `make ui`) has registered the deployments."
        )
    raise typer.Exit(_ci_outcome(env, flow_run_id(found.group(1))))


def _ci_outcome(env: str, run_id) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(run_id).state
        reports = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    summaries = [a.description for a in reports if a.key == f"release-{env}" and a.description]
    message = summaries[0] if summaries else state.message or state.name
    if state.is_completed():
        typer.secho(f"release/{env} {run_id}: {message}", fg=typer.colors.GREEN, bold=True)
        return 0
    typer.secho(f"release/{env} {run_id}: {state.name}: {message}", fg=typer.colors.RED, err=True)
    return 1
