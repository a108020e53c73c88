"""Infrastructure: `tf plan|apply`, `policy-validate`, and `infra` (tests on the plans,
security scan, cost estimate and report, predictive scaling)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from petswipe_cli.common import Env, config_of, reported
from petswipe_ops import pipeline, policy
from petswipe_ops.config import load_environment
from petswipe_ops.errors import OpsError
from petswipe_ops.manifest import build_manifest
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.platform.local.sandbox import LocalSandbox

app = typer.Typer()
tf_app = typer.Typer(help="Terraform on an environment's root.")
infra_app = typer.Typer(help="Infra tests, security scan, cost and predictive scaling.")
app.add_typer(tf_app, name="tf")
app.add_typer(infra_app, name="infra")
OptionalEnv = Annotated[
    str | None, typer.Option("--env", "-e", help="one environment; default: every AWS root")
]


@tf_app.command("plan")
@reported
def tf_plan(env: Env, version: Annotated[str, typer.Option("--version")] = "0.0.0"):
    """terraform plan of the environment's root, saved for `tf apply`."""
    config = config_of(env)
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
    config = config_of(env)
    outputs = pipeline.apply(config, plan_file)
    plan_file.unlink()
    typer.echo(json.dumps(outputs, indent=2))


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
    report = policy.enforce(build_manifest(config_of(env), version), policies)
    typer.echo(f"manifest of {env} {version}: allowed by {', '.join(report.policies)}")
    if failed:
        raise typer.Exit(1)


@infra_app.command("test")
@reported
def infra_test(env: OptionalEnv = None):
    """Plan each AWS root offline and check the plan: encryption, HA, scaling, network, policies."""
    from petswipe_ops.infra_tests import run_infra_tests

    target = load_environment(env, project_root()) if env else None
    report = run_infra_tests(target)
    typer.echo(report.as_text())
    raise typer.Exit(0 if report.passed else 1)


@infra_app.command("cost-estimate")
@reported
def cost_estimate(
    env: Env,
    price_table: Annotated[
        Path | None, typer.Option(help="price table YAML; default pricing/aws-us-east-1.yaml")
    ] = None,
):
    """Monthly cost of the environment's plan, a line per resource, and its diff against now."""
    from petswipe_ops.cost import estimate_plan, load_price_table
    from petswipe_ops.plan_workspace import plan_environment_root

    base = project_root()
    config = load_environment(env, base)
    table = load_price_table(base, price_table)
    deployed = run_dir(env) / "terraform" / "terraform.tfstate"  # the release's local state
    planned = plan_environment_root(
        config, base, run_dir(env) / "cost-estimate", state_file=deployed
    )
    estimate = estimate_plan(planned.plan_json, table, env)
    typer.echo(estimate.as_text())


@infra_app.command("security-scan")
@reported
def security_scan():
    """checkov and trivy on the terraform, rego on manifests and plans, dependency audit."""
    from petswipe_ops.security_scan import security_scan as scan

    report = scan()
    typer.echo(report.as_text())
    raise typer.Exit(0 if report.passed else 1)


@infra_app.command("cost-report")
@reported
def cost_report(
    env: Env,
    days: Annotated[int, typer.Option(min=1, max=365, help="days back from today")] = 14,
    out: Annotated[Path | None, typer.Option(help="chart path; default <run dir>/cost")] = None,
):
    """Cost Explorer spend of the environment by cost allocation tag and service, with a chart."""
    from datetime import UTC, datetime, timedelta

    from petswipe_ops.config import PlatformKind
    from petswipe_ops.cost_report import as_table, render_svg
    from petswipe_ops.errors import ConfigError
    from petswipe_ops.platform.aws.cost_explorer import daily_costs

    config = load_environment(env, project_root())
    if config.platform is not PlatformKind.AWS or config.aws is None:
        raise ConfigError(
            f"environment '{env}' runs on the local sandbox, which has no bill; "
            "report staging or production."
        )
    end = datetime.now(UTC).date()
    rows = daily_costs(env, end - timedelta(days=days), end, region=config.aws.region)
    typer.echo(as_table(rows, env))
    chart = out or run_dir(env) / "cost" / f"cost-report-{end.isoformat()}.svg"
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(render_svg(rows, env))
    typer.echo(f"chart: {chart}")


@infra_app.command("predictive-scaling")
@reported
def predictive_scaling(env: Env = "local"):
    """Forecast 48 h of load from a week of history and schedule capacity ahead of it."""
    from petswipe_ops.scaling.run import run_once

    outcome = run_once(load_environment(env, project_root()))
    typer.echo(f"applied: {outcome.applied}")
    typer.echo(f"plan: {outcome.plan_file}")
    typer.echo(f"chart: {outcome.chart}")
