"""Terraform roots and rego policies: `petswipe-ops tf ...` and `petswipe-ops policy-validate`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from petswipe_cli.common import Env, config_of, reported
from petswipe_ops import pipeline, policy
from petswipe_ops.errors import OpsError
from petswipe_ops.manifest import build_manifest
from petswipe_ops.paths import project_root
from petswipe_ops.platform.local.sandbox import LocalSandbox

app = typer.Typer()
tf_app = typer.Typer(help="Terraform on an environment's root.")
app.add_typer(tf_app, name="tf")


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
