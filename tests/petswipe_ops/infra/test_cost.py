"""Cost estimate from the price table, and the cost report read from moto's Cost Explorer."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from petswipe_ops import http_client
from petswipe_ops.config import load_environment
from petswipe_ops.cost import estimate_plan, load_price_table
from petswipe_ops.errors import ConfigError
from petswipe_ops.infra_tests import plan_policy_input
from petswipe_ops.paths import project_root

ROOT = project_root()


def change(address, kind, after, before=None, module=""):
    return {
        "address": address,
        "module_address": module,
        "mode": "managed",
        "type": kind,
        "name": address.rsplit(".", 1)[-1],
        "change": {"actions": ["update" if before else "create"], "before": before, "after": after},
    }


def service_plan(count_before: int | None, count_after: int) -> dict:
    """An ECS service on 1 vCPU / 2 GB tasks, an ALB, a NAT gateway and a Multi-AZ database."""
    task = {"cpu": "1024", "memory": "2048"}
    before_service = {"desired_count": count_before} if count_before else None
    return {
        "resource_changes": [
            change("aws_ecs_task_definition.api", "aws_ecs_task_definition", task, task),
            change(
                "aws_ecs_service.api",
                "aws_ecs_service",
                {"desired_count": count_after},
                before_service,
            ),
            change("aws_lb.main", "aws_lb", {"name": "petswipe"}),
            change("aws_nat_gateway.a", "aws_nat_gateway", {}),
            change(
                "aws_db_instance.main",
                "aws_db_instance",
                {"instance_class": "db.t4g.medium", "multi_az": True, "allocated_storage": 20},
            ),
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "mode": "managed",
                        "type": "aws_ecs_service",
                        "name": "api",
                        "expressions": {
                            "task_definition": {
                                "references": [
                                    "aws_ecs_task_definition.api.arn",
                                    "aws_ecs_task_definition.api",
                                ]
                            }
                        },
                    },
                ]
            }
        },
    }


def test_estimate_prices_each_resource_and_the_diff():
    table = load_price_table(ROOT)
    estimate = estimate_plan(service_plan(2, 3), table, "production")
    lines = {line.address: line for line in estimate.lines}
    p, hours = table.prices, table.hours_per_month
    task_month = hours * (p["fargate_vcpu_hour"] + 2 * p["fargate_gb_hour"])
    assert lines["aws_ecs_service.api"].planned_usd == pytest.approx(3 * task_month, abs=0.01)
    assert lines["aws_ecs_service.api"].current_usd == pytest.approx(2 * task_month, abs=0.01)
    database = 2 * (
        p["rds_instance_hour"]["db.t4g.medium"] * hours + 20 * p["rds_storage_gb_month"]["gp2"]
    )
    assert lines["aws_db_instance.main"].planned_usd == pytest.approx(database, abs=0.01)
    assert lines["aws_lb.main"].planned_usd > hours * p["alb_hour"]
    assert lines["aws_nat_gateway.a"].planned_usd > hours * p["nat_gateway_hour"]
    assert estimate.diff_usd == pytest.approx(
        estimate.monthly_total_usd - estimate.current_total_usd, abs=0.01
    )
    text = estimate.as_text()
    assert "TOTAL" in text and table.date in text and "us-east-1" in text


def test_price_table_missing_a_resource_type_names_it(tmp_path):
    source = (ROOT / "pricing" / "aws-us-east-1.yaml").read_text()
    (tmp_path / "pricing").mkdir()
    broken = tmp_path / "pricing" / "aws-us-east-1.yaml"
    broken.write_text(source.replace("  aws_nat_gateway: nat_gateway\n", ""))
    table = load_price_table(tmp_path)
    with pytest.raises(ConfigError) as raised:
        estimate_plan(service_plan(None, 2), table)
    assert "has no entry for resource type aws_nat_gateway (e.g. aws_nat_gateway.a)" in str(
        raised.value
    )


@pytest.mark.integration
def test_resource_limits_judge_the_estimated_cost(shipped_plans):
    config = load_environment("production", ROOT)
    document = plan_policy_input(shipped_plans["production"].plan_json, config, ROOT)
    estimate = estimate_plan(shipped_plans["production"].plan_json, load_price_table(ROOT))
    assert document["cost"] == {
        "monthly_usd": estimate.monthly_total_usd,
        "source": "plan estimate",
    }
    assert estimate.monthly_total_usd != config.service.monthly_cost_usd


def cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "petswipe_cli.main", "infra", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        check=False,
    )


def test_cost_estimate_of_an_unknown_environment_is_one_sentence(tmp_path):
    done = cli("cost-estimate", "--env", "qa", env={"PETSWIPE_RUN_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: unknown environment 'qa': there is no deployments/qa.yaml; "
        "known environments: local, production, staging."
    )
    assert not any(tmp_path.iterdir())


@pytest.mark.integration
def test_cost_report_reads_cost_explorer_and_writes_a_chart(moto_endpoint, tmp_path):
    """moto tracks no spend: its configured-results API seeds what Cost Explorer returns."""
    end = datetime.now(UTC).date()
    start = end - timedelta(days=2)
    days = [start, start + timedelta(days=1)]
    results = {
        "results": [
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {
                            "Start": d.isoformat(),
                            "End": (d + timedelta(days=1)).isoformat(),
                        },
                        "Total": {},
                        "Groups": [
                            {
                                "Keys": [
                                    "Service$petswipe-api",
                                    "Amazon Elastic Container Service",
                                ],
                                "Metrics": {
                                    "UnblendedCost": {"Amount": f"{3.5 + i}", "Unit": "USD"}
                                },
                            },
                            {
                                "Keys": [
                                    "Service$petswipe-api",
                                    "Amazon Relational Database Service",
                                ],
                                "Metrics": {"UnblendedCost": {"Amount": "3.27", "Unit": "USD"}},
                            },
                        ],
                        "Estimated": False,
                    }
                    for i, d in enumerate(days)
                ]
            }
        ]
    }
    http_client.post(
        f"{moto_endpoint.url}/moto-api/static/ce/cost-and-usage-results", json=results, timeout=10
    ).raise_for_status()
    chart = tmp_path / "cost.svg"
    done = cli(
        "cost-report",
        "--env",
        "production",
        "--days",
        "2",
        "--out",
        str(chart),
        env=moto_endpoint.env(),
    )
    assert done.returncode == 0, done.stderr
    assert f"{days[1].isoformat()}  petswipe-api / Amazon Elastic Container Service" in done.stdout
    assert "4.50" in done.stdout
    total_line = next(line for line in done.stdout.splitlines() if "all services" in line)
    assert total_line.split()[-1] == f"{3.5 + 4.5 + 2 * 3.27:.2f}"
    svg = Path(chart).read_text()
    assert svg.startswith("<svg") and svg.count("<rect") >= 4
    assert "Amazon Relational Database Service" in svg
