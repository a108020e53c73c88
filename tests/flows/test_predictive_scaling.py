"""The predictive-scaling flow end to end: on moto (scheduled actions on the ECS service's
scalable target, history from moto's CloudWatch, both named by the stack's saved outputs)
and on the local sandbox (stable replica processes behind HAProxy follow the plan)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from flows.predictive_scaling import predictive_scaling
from petswipe_ops import http_client
from petswipe_ops.config import EnvironmentConfig, load_environment
from petswipe_ops.platform.local.haproxy import HaproxyRuntime
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.platform.local.services import alive
from petswipe_ops.scaling.run import local_scaler
from tests.fixtures.stack_outputs import save_stack_outputs
from tests.petswipe_ops.scaling.synthetic import weekly_rates

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

RESOURCE = "service/petswipe-production-cluster/petswipe-production-stable"


def seed_cloudwatch(region: str) -> None:
    """A week of the stable target group's RequestCount, one 5-minute sum each hour."""
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    dimensions = [
        {"Name": "LoadBalancer", "Value": "app/petswipe-production/0123456789abcdef"},
        {"Name": "TargetGroup", "Value": "targetgroup/petswipe-production-stable/0123456789abcdef"},
    ]
    points = weekly_rates(datetime.now(UTC), 7, base=400.0)
    for start in range(0, len(points), 20):
        cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {
                    "MetricName": "RequestCount",
                    "Dimensions": dimensions,
                    "Timestamp": p.at,
                    "Value": p.value * 300,
                    "Unit": "Count",
                }
                for p in points[start : start + 20]
            ],
        )


def scheduled(client) -> dict[str, dict]:
    reply = client.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=RESOURCE)
    return {a["ScheduledActionName"]: a for a in reply["ScheduledActions"]}


def test_flow_writes_scheduled_actions_on_moto(moto_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    save_stack_outputs("production")
    seed_cloudwatch(moto_endpoint.region)
    ecs = boto3.client("ecs", region_name=moto_endpoint.region)
    ecs.create_cluster(clusterName="petswipe-production-cluster")
    ecs.register_task_definition(
        family="petswipe-production-stable",
        containerDefinitions=[{"name": "api", "image": "petswipe/api:1.0.0", "memory": 2048}],
    )
    ecs.create_service(
        cluster="petswipe-production-cluster",
        serviceName="petswipe-production-stable",
        taskDefinition="petswipe-production-stable",
        desiredCount=3,
    )
    scaling = boto3.client("application-autoscaling", region_name=moto_endpoint.region)
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=RESOURCE,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=3,
        MaxCapacity=10,
    )
    stale = "petswipe-production-predictive-20200101T0000"
    scaling.put_scheduled_action(
        ServiceNamespace="ecs",
        ResourceId=RESOURCE,
        ScalableDimension="ecs:service:DesiredCount",
        ScheduledActionName=stale,
        Schedule="at(2020-01-01T00:00:00)",
        ScalableTargetAction={"MinCapacity": 3, "MaxCapacity": 10},
    )

    result = predictive_scaling("production")

    actions = scheduled(scaling)
    assert stale not in actions
    assert actions and result["applied"]["written"] == len(actions)
    assert result["applied"]["retired"] == 1
    floors = [a["ScalableTargetAction"]["MinCapacity"] for a in actions.values()]
    assert min(floors) >= 3 and max(floors) > 3
    assert all(a["ScalableTargetAction"]["MaxCapacity"] == 10 for a in actions.values())
    assert all(a["Schedule"].startswith("at(") for a in actions.values())
    assert (tmp_path / "production" / "scaling" / "plan.json").is_file()
    assert Path(result["chart"]).read_text().startswith("<svg")

    again = predictive_scaling("production")
    assert set(scheduled(scaling)) == set(actions)
    assert again["applied"]["retired"] == 0


def test_sandbox_replicas_follow_the_plan(make_project, tmp_path):
    project = make_project()
    history = tmp_path / "history.json"

    def write_history(base: float) -> None:
        points = weekly_rates(datetime.now(UTC), 7, base=base)
        history.write_text(json.dumps([p.model_dump(mode="json") for p in points]))

    write_history(100.0)
    project.edit(
        "local",
        lambda data: data.update(
            scaling={
                "history": "file",
                "history_file": str(history),
                "requests_per_task": 10,
                "min_tasks": 1,
                "max_tasks": 3,
            }
        ),
        source="local",
    )
    config = load_environment("local", project.root)
    sandbox = LocalSandbox(config)
    sandbox.up()
    runtime = HaproxyRuntime(sandbox.socket_path)
    try:
        busy = predictive_scaling("local")
        assert busy["applied"]["processes"] == 3
        replicas = json.loads((sandbox.run_dir / "scaler.json").read_text())
        assert [r["name"] for r in replicas] == ["replica-1", "replica-2"]
        assert all(alive(r["pid"]) for r in replicas)
        for _ in range(60):
            assert http_client.get(sandbox.router_url + "/health", timeout=5).status_code == 200
        served = _served_by_server(runtime)
        assert served["replica-1"] > 0 and served["replica-2"] > 0

        write_history(1.0)  # the forecast drops, and the router sees no load: scale in
        _wait_for_a_quiet_router(config)
        quiet = predictive_scaling("local")
        assert quiet["applied"]["observed_rps"] == 0
        assert quiet["applied"]["processes"] == 1
        assert not any(alive(r["pid"]) for r in replicas)
        assert "replica-1" not in runtime.command("show servers state petswipe")
    finally:
        sandbox.down()


def _served_by_server(runtime: HaproxyRuntime) -> dict[str, int]:
    lines = runtime.command("show stat -1 4 -1").splitlines()
    header = lines[0].lstrip("# ").split(",")
    return {
        fields[1]: int(fields[header.index("stot")] or 0)
        for fields in (line.split(",") for line in lines[1:] if line)
        if len(fields) > 2
    }


def _wait_for_a_quiet_router(config: EnvironmentConfig) -> None:
    """HAProxy's req_rate is a sliding one-second rate: the health requests above stay in
    it for up to two seconds, and a scaler that saw them would rightly keep the replicas."""
    scaler = local_scaler(config)
    deadline = time.monotonic() + 10
    while scaler.observed_rps() != 0:
        assert time.monotonic() < deadline, "the router still counts requests after 10 s"
        time.sleep(0.2)
