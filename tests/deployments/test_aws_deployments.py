"""deploy/aws/prefect.yaml: every deployment names a flow; scheduled runs get valid parameters."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_every_aws_deployment_names_a_flow_and_valid_parameters() -> None:
    spec = yaml.safe_load((REPO / "deploy" / "aws" / "prefect.yaml").read_text())
    seen = set()
    for deployment in spec["deployments"]:
        path, name = deployment["entrypoint"].split(":")
        flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)
        # A scheduled run gets no other parameters: each schedule's must be complete.
        for schedule in deployment.get("schedules", []):
            flow.validate_parameters({**deployment["parameters"], **schedule.get("parameters", {})})
        assert deployment["work_pool"]["name"] == "petswipe-ecs"
        seen.add((name, deployment["name"]))
    for flow in ("rds_backup", "rds_backup_verification", "rds_dr_drill", "load_test_campaign"):
        assert {(flow, "staging"), (flow, "production")} <= seen
