"""A staging release through the release flow on the AWS sandbox.

The session's staging stack on a real moto server, with the sandbox's ALB data-plane
emulator in front of it: moto has no data plane, so the emulator runs the reference service
for each target group's task definition, splits k6's traffic by the weights it reads from
moto's listener and puts the ALB metrics into moto's CloudWatch, where the gate reads them.
Every stage runs: infra tests, plan, policy, approval (auto in staging), apply, the RDS
snapshot, migrate, canary 10/50/100 and finalize; the faulty version then goes through
`deploy-canary` (its terraform stages would be the first release's again). A throwaway
copy of staging.yaml only shortens the bake and observe intervals so the releases fit the
suite; its gate and SLOs are staging's. These tests move the stack's terraform state, so
the conftest runs them last.
"""

from __future__ import annotations

import pytest

from petswipe_ops import pipeline
from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.platform import open_platform
from petswipe_ops.record import Outcome
from petswipe_ops.release import ReleaseRequest
from petswipe_ops.release_run import ReleaseNotPromoted

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def shorter_canary(data: dict) -> None:
    data["canary"].update(
        min_step_seconds=12, observe_interval_seconds=3, max_step_seconds=180, min_requests=200
    )


def listener(stack) -> dict[str, int]:
    reply = stack.client("elbv2").describe_listeners(ListenerArns=[stack.outputs.listener_arn])
    groups = reply["Listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    return {g["TargetGroupArn"]: g["Weight"] for g in groups}


def desired(stack, name: str) -> int:
    ecs = stack.client("ecs")
    return ecs.describe_services(cluster=stack.outputs.cluster, services=[name])["services"][0][
        "desiredCount"
    ]


def release(**fields):
    from flows.release import release as flow

    return flow(request=ReleaseRequest(environment="staging", auto_approve=True, **fields))


def deploy_canary(**fields):
    """The traffic part of a release (policy, approval, canary, finalize or rollback): the
    stages before it are the promoted release's, unchanged."""
    from flows.release import deploy_canary as flow

    return flow(request=ReleaseRequest(environment="staging", auto_approve=True, **fields))


@pytest.mark.timeout(1800)  # the session's stack apply is counted in the first test's setup
def test_a_staging_release_is_promoted_and_a_faulty_one_rolled_back(stack, sandbox) -> None:
    sandbox.edit("staging", shorter_canary, source="staging")
    outputs = stack.outputs
    release(version="2.0.0")

    record = pipeline.ledger("staging").all()[-1]
    assert record.outcome is Outcome.PROMOTED, record.reason
    stages = [s.name for s in record.stages]
    for stage in ("test", "plan", "policy", "approve", "apply", "backup", "migrate"):
        assert stage in stages, stages
    canary = [d for d in record.decisions if d.stage == "canary"]
    assert [(d.evidence["weight"], d.verdict) for d in canary] == [
        (10, "promote"),
        (50, "promote"),
        (100, "promote"),
    ]
    snapshots = stack.client("rds").describe_db_snapshots(DBInstanceIdentifier=outputs.db_instance)
    assert any("pre-migration" in s["DBSnapshotIdentifier"] for s in snapshots["DBSnapshots"])
    assert listener(stack)[outputs.canary_target_group_arn] == 0
    assert desired(stack, outputs.canary_service) == 0
    stable = open_platform(load_environment("staging", project_root())).services.instance("stable")
    assert stable is not None and stable.version == "2.0.0"

    with pytest.raises(ReleaseNotPromoted, match="rolled back: canary gate at 10%: error rate"):
        deploy_canary(version="2.0.1", fault="error_rate=0.05")
    record = pipeline.ledger("staging").all()[-1]
    assert record.outcome is Outcome.ROLLED_BACK, record.reason
    assert listener(stack)[outputs.canary_target_group_arn] == 0
    assert desired(stack, outputs.canary_service) == 0
    assert desired(stack, outputs.stable_service) == stack.config.service.replicas
