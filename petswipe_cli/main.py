"""`petswipe-ops`: the command line over the flows and the library (the make targets call it)."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer

from petswipe_ops import migrations, pipeline, policy
from petswipe_ops.backup import controls as backup_controls
from petswipe_ops.backup import drill as backup_drill
from petswipe_ops.backup import operations as backup_ops
from petswipe_ops.config import BackupTier, EnvironmentConfig, load_environment
from petswipe_ops.errors import OpsError
from petswipe_ops.manifest import build_manifest
from petswipe_ops.paths import migrations_dir, project_root, run_dir
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.record import Outcome
from petswipe_ops.release import SEMVER, ReleaseRequest
from petswipe_ops.report import render_summary

# Without PREFECT_API_URL a command starts a temporary Prefect server. On a busy 2-core
# machine it can take longer than Prefect's 20 s default to start, and its telemetry
# heartbeat (which has nowhere to go from a closed network) races the first flow run
# for the SQLite database; unless the user set them, allow more time and skip telemetry.
TEMPORARY_SERVER_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}
for _name, _value in TEMPORARY_SERVER_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

app = typer.Typer(help="PetSwipe ops pipelines.", no_args_is_help=True, add_completion=False)
sandbox_app = typer.Typer(help="The local sandbox: service, HAProxy, database.")
tf_app = typer.Typer(help="Terraform on an environment's root.")
db_app = typer.Typer(help="Database migrations of an environment.")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(tf_app, name="tf")
app.add_typer(db_app, name="db")

Env = Annotated[str, typer.Option("--env", "-e", help="environment: deployments/<env>.yaml")]


def reported(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an OpsError into its one sentence on stderr and a non-zero exit."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OpsError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _config(env: str) -> EnvironmentConfig:
    return load_environment(env, project_root())


def _sandbox(env: str) -> LocalSandbox:
    return LocalSandbox(_config(env))


def _release(request: ReleaseRequest, flow: Callable[..., Any]) -> int:
    """Run a release flow and print its outcome; 0 only when the version was promoted."""
    pipeline.guard(request)
    book = pipeline.ledger(request.environment)
    before = {r.release_id for r in book.all()}
    state = flow(request=request, return_state=True)
    record = next((r for r in reversed(book.all()) if r.release_id not in before), None)
    if record is None:
        typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
        return 1
    colour = typer.colors.GREEN if record.outcome is Outcome.PROMOTED else typer.colors.RED
    typer.secho(render_summary(record), fg=colour, bold=True)
    return 0 if record.outcome is Outcome.PROMOTED else 1


def _request(
    env: str,
    version: str,
    fault: str | None,
    auto_approve: bool,
    error_budget: float | None = None,
) -> ReleaseRequest:
    return pipeline.validate_request(
        {
            "environment": env,
            "version": version,
            "fault": fault or None,
            "auto_approve": auto_approve,
            "error_budget_remaining": error_budget,
        }
    )


Version = Annotated[str, typer.Option("--version", "-v", help="semantic version, e.g. 1.4.0")]
Fault = Annotated[
    str | None, typer.Option(help="local only: error_rate=0.05 and/or latency_ms=800")
]
AutoApprove = Annotated[
    bool, typer.Option("--auto-approve/--manual-approve", help="skip the approval pause")
]
ErrorBudget = Annotated[
    float | None,
    typer.Option(help="share of the error budget left, 0..1: 0 refuses, under 0.5 is stricter"),
]


@app.command()
@reported
def release(
    env: Env,
    version: Version,
    fault: Fault = None,
    auto_approve: AutoApprove = False,
    error_budget: ErrorBudget = None,
):
    """The whole pipeline: test, plan, policy, approve, apply, backup, migrate, canary, finalize."""
    from flows.release import release as release_flow

    request = _request(env, version, fault, auto_approve, error_budget)
    raise typer.Exit(_release(request, release_flow))


@app.command("deploy-canary")
@reported
def deploy_canary(
    env: Env, version: Version, fault: Fault = None, error_budget: ErrorBudget = None
):
    """Only the canary: start the version, climb the steps, finalize or roll back."""
    from flows.release import deploy_canary as canary_flow

    raise typer.Exit(_release(_request(env, version, fault, True, error_budget), canary_flow))


@app.command()
@reported
def demo(env: Env = "local"):
    """Release a healthy version (promoted) and one with 5 % errors (rolled back)."""
    from flows.release import release as release_flow

    sandbox = _sandbox(env)
    started = time.monotonic()
    sandbox.up()
    stable = sandbox.services.instance("stable")
    major, minor = SEMVER.match(stable.version if stable else "1.0.0").group(1, 2)
    healthy, faulty = f"{major}.{int(minor) + 1}.0", f"{major}.{int(minor) + 2}.0"
    typer.secho(f"\n▶ releasing healthy {healthy} to {env}", bold=True)
    first = _release(_request(env, healthy, None, True), release_flow)
    typer.secho(f"\n▶ releasing faulty {faulty} (5 % errors) to {env}", bold=True)
    second = _release(_request(env, faulty, "error_rate=0.05", True), release_flow)
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


@sandbox_app.command("up")
@reported
def sandbox_up(env: Env = "local"):
    """Start the stable version and HAProxy (idempotent)."""
    _print_status(_sandbox(env).up())


@sandbox_app.command("down")
@reported
def sandbox_down(env: Env = "local"):
    """Stop every process of the sandbox; the database and records stay."""
    sandbox = _sandbox(env)
    sandbox.down()
    typer.echo(f"sandbox {env} stopped; state kept in {sandbox.run_dir}")


@sandbox_app.command("status")
@reported
def sandbox_status(env: Env = "local"):
    """What runs, and the weights HAProxy reports."""
    _print_status(_sandbox(env).status())


def _print_status(status) -> None:
    typer.echo(f"router {status.router_url}: {'up' if status.router_running else 'down'}")
    if status.weights:
        typer.echo(
            f"weights: stable {status.weights.stable} / candidate {status.weights.candidate}"
        )
    for instance in status.versions:
        typer.echo(f"{instance.role}: {instance.version} at {instance.endpoint}")


@tf_app.command("plan")
@reported
def tf_plan(env: Env, version: Annotated[str, typer.Option("--version")] = "0.0.0"):
    """terraform plan of the environment's root, saved for `tf apply`."""
    config = _config(env)
    pipeline.validate_request({"environment": env, "version": version})
    stable = LocalSandbox(config).services.instance("stable") if config.local else None
    planned = pipeline.plan(
        config, version, stable.version if stable else "none", pipeline.plan_file(env, "manual")
    )
    typer.echo(planned.summary.as_markdown())
    typer.echo(f"saved plan: {planned.plan_file}")


@tf_app.command("apply")
@reported
def tf_apply(env: Env):
    """Apply the plan saved by `tf plan`, and nothing else."""
    plan_file = pipeline.plan_file(env, "manual")
    if not plan_file.is_file():
        raise OpsError(f"there is no saved plan for {env}; run `make tf-plan ENV={env}` first.")
    config = _config(env)
    outputs = pipeline.apply(config, plan_file)
    plan_file.unlink()
    typer.echo(json.dumps(outputs, indent=2))


@db_app.command("migrate")
@reported
def db_migrate(env: Env):
    """alembic upgrade to head, one recorded step at a time."""
    sandbox = _sandbox(env)
    sandbox.start_database()
    steps = migrations.upgrade(sandbox.database.url, migrations_dir())
    for step in steps:
        typer.echo(f"upgraded {step.revision} ({step.script}) in {step.execution_ms:.0f} ms")
    if not steps:
        typer.echo("schema already at head")


@db_app.command("rollback")
@reported
def db_rollback(env: Env, steps: int = 1):
    """alembic downgrade by STEPS revisions."""
    sandbox = _sandbox(env)
    sandbox.start_database()
    for step in migrations.downgrade(sandbox.database.url, migrations_dir(), steps=steps):
        typer.echo(f"downgraded {step.revision} in {step.execution_ms:.0f} ms")


@db_app.command("status")
@reported
def db_status(env: Env):
    """Current revision, pending ones and the recorded history."""
    sandbox = _sandbox(env)
    sandbox.start_database()
    status = migrations.status(sandbox.database.url, migrations_dir())
    typer.echo(f"current: {status.current or 'none'}  head: {status.head}")
    typer.echo(f"pending: {', '.join(status.pending) or 'none'}")
    for step in status.history:
        mark = "ok" if step.success else f"FAILED: {step.error}"
        typer.echo(
            f"{step.started_at:%Y-%m-%d %H:%M:%S} {step.direction:9} {step.revision} "
            f"{step.checksum[:12]} {step.execution_ms:7.0f} ms {mark}"
        )


@app.command("policy-validate")
@reported
def policy_validate(env: Env = "local", version: str = "1.0.0"):
    """Run the rego policies' tests, then judge the environment's manifest."""
    policies = project_root() / "policies"
    tests = policy.run_policy_tests(policies)
    failed = [t for t in tests.results if not t.passed]
    typer.echo(f"{len(tests.results) - len(failed)} of {len(tests.results)} policy tests passed")
    for test in failed:
        typer.secho(f"  failed: {test.package}.{test.name}", fg="red")
    report = policy.enforce(build_manifest(_config(env), version), policies)
    typer.echo(f"manifest of {env} {version}: allowed by {', '.join(report.policies)}")
    if failed:
        raise typer.Exit(1)


Scenario = Annotated[
    list[str],
    typer.Option("--scenario", "-s", help="smoke, load, stress, spike, soak or all; repeatable"),
]


@app.command("load-test")
@reported
def load_test(
    env: Env = "local",
    scenario: Scenario = ["smoke"],  # noqa: B006
    scale: Annotated[float | None, typer.Option(help="duration factor, e.g. 0.02")] = None,
    rate_scale: Annotated[float | None, typer.Option(help="arrival-rate factor")] = None,
    tolerance: Annotated[
        float | None, typer.Option(help="p95 growth still fine, 0.2 = 20 %")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", "-v", help="local: test this version as a candidate")
    ] = None,
    fault: Fault = None,
):
    """k6 scenarios against the environment; exit 1 on a failed threshold or a regression."""
    from petswipe_ops.loadtest import campaign
    from petswipe_ops.loadtest.report import render_table

    names = [part.strip() for item in scenario for part in item.split(",") if part.strip()]
    request = campaign.validate_request(
        {
            "environment": env,
            "scenarios": names,
            "scale": scale,
            "rate_scale": rate_scale,
            "tolerance": tolerance,
            "version": version,
            "fault": fault or None,
        }
    )
    campaign.guard(request)
    from flows.load_test_campaign import load_test_campaign

    before = {r.campaign_id for r in campaign.all_records(env)}
    state = load_test_campaign(request=request, return_state=True)
    record = next(
        (r for r in reversed(campaign.all_records(env)) if r.campaign_id not in before), None
    )
    if record is None:
        typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if record.runs:
        typer.echo(render_table(record.runs))
    if record.report_path:
        typer.echo(f"chart: {record.chart_path}\nreport: {record.report_path}")
    ok = record.ok and not state.is_failed()
    crashed = state.is_failed() and (record.ok or not record.runs)
    verdict = f"error: {state.message}" if crashed else record.verdict()
    typer.secho(verdict, fg=typer.colors.GREEN if ok else typer.colors.RED, bold=True)
    raise typer.Exit(0 if ok else 1)


# Prefect deployments: the UI with a worker, approvals, and runs from CI.

ui_app = typer.Typer(help="The Prefect UI: server, process worker and deployments.")
deployments_app = typer.Typer(help="The deployments of prefect.yaml.")
app.add_typer(ui_app, name="ui")
app.add_typer(deployments_app, name="deployments")

LOCAL_POOL = "local-process"


def _ui_stack(port: int = 0):
    from petswipe_ops.prefect_stack import PrefectStack

    return PrefectStack(run_dir("prefect-ui"), port)


@ui_app.command("up")
@reported
def ui_up(port: Annotated[int, typer.Option(help="port of the UI on 127.0.0.1")] = 4200):
    """Start the Prefect server (SQLite), a process worker and `prefect deploy --all`."""
    from petswipe_ops import deployment_spec

    root = project_root()
    deployment_spec.check(root)
    stack = _ui_stack(port)
    try:
        stack.start_server()
        stack.ensure_pool(LOCAL_POOL)
        stack.start_worker("local", LOCAL_POOL, {"PETSWIPE_ROOT": str(root)})
        stack.deploy_all(root)
    except OpsError:
        stack.stop()
        raise
    typer.secho(f"Prefect UI on {stack.ui_url}", fg=typer.colors.GREEN, bold=True)
    names = ", ".join(deployment_spec.deployment_names(root / "prefect.yaml"))
    typer.echo(f"  deployments ({LOCAL_POOL}): {names}")
    typer.echo(f"  in another shell: export PREFECT_API_URL={stack.api_url}")
    typer.echo("  then: make ci-release VERSION=1.3.0   or a run from the deployment's page")
    typer.echo(f"  logs and pids: {stack.folder}; stop everything with `make ui-down`")


@ui_app.command("down")
@reported
def ui_down():
    """Stop the server and workers `ui up` started."""
    stack = _ui_stack()
    stopped = stack.stop()
    typer.echo(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")


@deployments_app.command("check")
@reported
def deployments_check():
    """Every environment has a release deployment, and none sets a deployment concurrency limit."""
    from petswipe_ops import deployment_spec

    deployment_spec.check(project_root())
    typer.echo(
        "prefect.yaml has a release deployment per environment; one release at a time is "
        "kept by the flow's release-<env> limits"
    )


def _flow_run_id(text: str):
    from uuid import UUID

    try:
        return UUID(text.strip())
    except ValueError:
        raise OpsError(f"'{text}' is not a flow run id; copy it from the run's page.") from None


@app.command()
@reported
def approve(
    run: Annotated[str, typer.Argument(help="id of the paused release's flow run")],
    reject: Annotated[bool, typer.Option("--reject", help="reject instead of approve")] = False,
    reason: Annotated[str, typer.Option(help="why; kept in the release record")] = "",
):
    """Answer a release paused for approval, as the UI form does."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.flow_runs import resume_flow_run

    run_id = _flow_run_id(run)
    with get_client(sync_client=True) as client:
        try:
            flow_run = client.read_flow_run(run_id)
        except ObjectNotFound:
            raise OpsError(f"there is no flow run {run_id} on this Prefect server.") from None
    if flow_run.state is None or not flow_run.state.is_paused():
        state = flow_run.state.name if flow_run.state else "unknown"
        raise OpsError(f"flow run {flow_run.name} is {state}, not waiting for approval.")
    resume_flow_run(run_id, run_input={"approve": not reject, "reason": reason})
    typer.echo(f"{'rejected' if reject else 'approved'} {flow_run.name} ({run_id})")


@app.command("ci-release")
@reported
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

    _config(env)
    request = _request(env, version, fault, auto_approve)
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
    raise typer.Exit(_ci_outcome(env, _flow_run_id(found.group(1))))


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


backup_app = typer.Typer(help="Backups, backup verification and DR drills.")
app.add_typer(backup_app, name="backup")
Tier = Annotated[
    BackupTier | None, typer.Option(help="default: monthly/weekly/daily by the calendar")
]


def _fresh_report(path, started: float) -> str | None:
    """The report a flow run wrote after `started`, or None if it wrote none."""
    if path.is_file() and path.stat().st_mtime >= started:
        return path.read_text()
    return None


def _failed_run(state) -> None:
    typer.secho(f"error: {state.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@backup_app.command("run")
@reported
def backup_run(env: Env = "local", tier: Tier = None):
    """Back up the environment's database, copy it to the DR vault, prune past retention."""
    from flows.backup import backup as backup_flow

    target = backup_ops.BackupTarget(_config(env))
    state = backup_flow(environment=env, tier=tier, return_state=True)
    if not state.is_completed():
        _failed_run(state)
    manifest = target.vaults.primary.get(state.result())
    typer.echo(
        f"backup {manifest.id}: {manifest.tier.value}, {manifest.size} bytes, "
        f"{manifest.encryption}, sha256 {manifest.sha256[:12]}…, kept until "
        f"{manifest.expires_at:%Y-%m-%d}; copied to {target.vaults.dr.folder}"
    )


@backup_app.command("verify")
@reported
def backup_verify(env: Env = "local"):
    """Evaluate every backup control; exit 1 when one fails."""
    from flows.backup_verification import backup_verification

    target = backup_ops.BackupTarget(_config(env))
    started = time.time()
    state = backup_verification(environment=env, return_state=True)
    raw = _fresh_report(backup_ops.report_path(target, "verification"), started)
    if raw is None:
        _failed_run(state)
    report = backup_ops.VerificationReport.model_validate_json(raw)
    typer.echo(backup_controls.render_table(report.controls))
    if not report.passed:
        names = ", ".join(r.control for r in backup_controls.failed(report.controls))
        typer.secho(f"backup verification of {env} failed: {names}", fg="red", err=True)
        raise typer.Exit(1)
    typer.secho(f"every backup control of {env} passed", fg="green")


@backup_app.command("dr-test")
@reported
def backup_dr_test(env: Env = "local"):
    """Restore the latest backup into a scratch database and verify it; exit 1 on failure."""
    from flows.backup import backup as backup_flow
    from flows.dr_drill import dr_drill

    target = backup_ops.BackupTarget(_config(env))
    if not target.vaults.primary.list():
        typer.echo(f"the vault of {env} is empty: taking a first backup before the drill")
        seeded = backup_ops.prepare_first_backup(target)
        if seeded:
            typer.echo(f"seeded demo data into the empty database: {seeded}")
        state = backup_flow(environment=env, return_state=True)
        if not state.is_completed():
            _failed_run(state)
    started = time.time()
    state = dr_drill(environment=env, return_state=True)
    raw = _fresh_report(backup_ops.report_path(target, "drill"), started)
    if raw is None:
        _failed_run(state)
    report = backup_drill.DrillReport.model_validate_json(raw)
    typer.echo(backup_drill.render_markdown(report))
    rpo = f"{report.rpo_seconds:.0f} s" if report.rpo_seconds is not None else "no data"
    summary = f"RTO {report.rto_seconds:.2f} s, RPO {rpo}"
    if not report.passed:
        typer.secho(f"{backup_drill.failure_message(report)} ({summary})", fg="red", err=True)
        raise typer.Exit(1)
    typer.secho(f"DR drill of {env} passed: {summary}", fg="green")
    if target.config.local and target.config.local.postgres:
        typer.echo("the sandbox's PostgreSQL keeps running; `make sandbox-down` stops it")


@backup_app.command("keygen")
def backup_keygen():
    """Print a new backup key; store it in PETSWIPE_BACKUP_KEY or a Prefect Secret block."""
    from cryptography.fernet import Fernet

    typer.echo(Fernet.generate_key().decode())


from petswipe_cli.aws_backup import app as aws_backup_app  # noqa: E402
from petswipe_cli.aws_sandbox import app as aws_sandbox_app  # noqa: E402

app.add_typer(aws_sandbox_app, name="aws-sandbox")
app.add_typer(aws_backup_app, name="aws-backup")


def main() -> None:
    app(prog_name="petswipe-ops")


if __name__ == "__main__":
    sys.exit(main())
