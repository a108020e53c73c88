"""Infra tests on real terraform plans of the shipped roots and of deliberately broken ones."""

from __future__ import annotations

import shutil

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.errors import OpsError
from petswipe_ops.infra_tests import (
    CHECKS,
    InfraTestsFailed,
    judge_plan,
    require_infra_tests,
    run_infra_tests,
)
from petswipe_ops.paths import project_root
from petswipe_ops.plan_json import of_type, resources

pytestmark = pytest.mark.integration

OPEN_GROUPS = """
resource "aws_security_group" "admin" {
  name   = "petswipe-admin"
  vpc_id = "vpc-0123456789abcdef0"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "alb" {
  name   = "petswipe-production-alb"
  vpc_id = "vpc-0123456789abcdef0"

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


@pytest.mark.parametrize("environment", ["production"])
def test_shipped_roots_pass_every_check(shipped_plans, environment):
    config = load_environment(environment, project_root())
    report = judge_plan(shipped_plans[environment], config, project_root())
    assert report.passed, report.failures
    assert [c.name for c in report.checks] == list(CHECKS)
    types = {r.type for r in resources(shipped_plans[environment].plan_json)}
    assert {"aws_kms_key", "aws_s3_bucket", "aws_appautoscaling_target"} <= types


def test_production_plan_is_multi_az_with_autoscaling(shipped_plans):
    items = resources(shipped_plans["production"].plan_json)
    (db,) = of_type(items, "aws_db_instance")
    assert db.after["multi_az"] is True and db.after["storage_encrypted"] is True
    policies = of_type(items, "aws_appautoscaling_policy")
    assert {p.after["policy_type"] for p in policies} == {"TargetTrackingScaling", "StepScaling"}
    schedules = {s.after["schedule"] for s in of_type(items, "aws_appautoscaling_scheduled_action")}
    assert "cron(0 8 ? * MON-FRI *)" in schedules and "cron(0 0 ? * SAT *)" in schedules


def test_plan_differing_from_manifest_fails_the_policies(shipped_plans, tmp_path):
    """The production root plans 1 vCPU / 2 GB: a manifest declaring less is caught."""
    config = load_environment("production", project_root())
    smaller = config.model_copy(
        update={
            "service": config.service.model_copy(
                update={
                    "resources": config.service.resources.model_copy(update={"cpu_millicores": 512})
                }
            )
        }
    )
    report = judge_plan(shipped_plans["production"], smaller, project_root())
    messages = [v.message for v in report.policy_violations]
    assert any(
        "aws_ecs_task_definition.this plans 1024 CPU units" in m and "is 512" in m for m in messages
    ), messages


def copy_project(tmp_path):
    """deployments/ and terraform/ copied (to break them), policies/ and pricing/ linked."""
    project = tmp_path / "project"
    shutil.copytree(project_root() / "deployments", project / "deployments")
    shutil.copytree(project_root() / "terraform", project / "terraform")
    for name in ("policies", "pricing"):
        (project / name).symlink_to(project_root() / name)
    return project


def test_broken_root_fails_naming_the_resources(tmp_path, monkeypatch):
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path / "run"))
    project = copy_project(tmp_path)
    rds = project / "terraform" / "modules" / "rds" / "main.tf"
    encrypted = "storage_encrypted           = true"
    rds.write_text(rds.read_text().replace(encrypted, encrypted.replace("true", "false")))
    root = project / "terraform" / "environments" / "aws"  # production.tfvars' root
    (root / "open.tf").write_text(OPEN_GROUPS)

    with pytest.raises(InfraTestsFailed) as raised:
        require_infra_tests(load_environment("production", project), project)
    message = str(raised.value)
    assert "\n" not in message and message.endswith("run `make infra-test`.")
    assert "module.stack.module.rds.aws_db_instance.this is not encrypted at rest" in message

    report = run_infra_tests(load_environment("production", project), project=project)
    assert not report.passed
    failures = report.failures
    assert (
        "production: module.stack.module.rds.aws_db_instance.this is not encrypted at rest; "
        "set storage_encrypted = true" in failures
    )
    opened = "production: aws_security_group.admin opens port 22 to 0.0.0.0/0"
    assert any(f.startswith(opened) for f in failures), failures
    assert not any("aws_security_group.alb " in f for f in failures if "opens" in f)
    denied = "[security] aws_security_group.admin lets 0.0.0.0/0 reach ports 22-22"
    assert any(denied in f for f in failures)


def test_local_root_plans_offline_and_passes(tmp_path, monkeypatch):
    """The release's test stage calls this for the sandbox too: its root has no AWS resources."""
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    report = run_infra_tests(load_environment("local", project_root()))
    assert report.passed, report.failures
    assert [r.environment for r in report.roots] == ["local"]
    assert report.roots[0].resources == 0


def test_release_stage_reports_a_root_that_does_not_plan_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path / "run"))
    project = copy_project(tmp_path)
    local = project / "terraform" / "environments" / "local"
    (local / "broken.tf").write_text('output "weights" {\n  value = var.missing\n}\n')
    with pytest.raises(OpsError) as raised:
        require_infra_tests(load_environment("local", project), project)
    message = str(raised.value)
    assert message.startswith(f"terraform plan of {local} failed: Reference to undeclared")
    assert "\n" not in message and message.endswith("run the infra tests again.")
