"""Infra tests on real terraform plans of the shipped roots and of deliberately broken ones."""

from __future__ import annotations

import shutil

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.infra_tests import CHECKS, judge_plan, run_infra_tests
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


def test_broken_root_fails_naming_the_resources(tmp_path):
    tree = tmp_path / "terraform"
    shutil.copytree(project_root() / "terraform", tree)
    rds = tree / "modules" / "rds" / "main.tf"
    encrypted = "storage_encrypted           = true"
    rds.write_text(rds.read_text().replace(encrypted, encrypted.replace("true", "false")))
    root = tree / "environments" / "production"
    (root / "open.tf").write_text(OPEN_GROUPS)

    report = run_infra_tests(root, environment="production")

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
