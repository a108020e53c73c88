"""The k6 load-test campaign, in the order of its diagram.

guard → target (sandbox router, or a candidate started for the campaign) →
smoke → load → stress → spike → soak (the chosen ones; the campaign stops at the
first failed run) → each compared with its last good run → report and chart.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.states import Failed, State

from petswipe_ops.errors import OpsError
from petswipe_ops.loadtest import campaign
from petswipe_ops.loadtest.campaign import CampaignRequest
from tasks import load_test as steps


@flow(name="load-test-campaign", flow_run_name="load-test-{request.environment}")
def load_test_campaign(request: CampaignRequest) -> str | State:
    """Run the chosen k6 scenarios in order; Failed on a failed threshold or a regression."""
    logger = get_run_logger()
    try:
        config = steps.guard(request)
        record = campaign.start_record(config, request)
        progress = create_progress_artifact(
            0, key=f"load-test-progress-{config.environment}", description="scenarios run"
        )
        try:
            with campaign.open_target(config, request, logger.info) as target:
                record.target = target
                logger.info("load testing %s at %s", target.version, target.base_url)
                for done, scenario in enumerate(record.scenarios):
                    run = steps.run_scenario(
                        config, record, target, scenario, request.tolerance, progress, done
                    )
                    record.runs.append(run)
                    campaign.save_record(record)
                    update_progress_artifact(
                        progress,
                        100 * (done + 1) / len(record.scenarios),
                        description=f"{scenario}: {run.outcome.value}",
                    )
                    if not run.passed:
                        record.stopped = f"stopped after {scenario}: {run.message}"
                        break
        except BaseException as exc:
            record.stopped = record.stopped or (
                str(exc) if isinstance(exc, OpsError) else repr(exc)
            )
            raise
        finally:
            record = steps.publish(record)
            campaign.prune(config)
    except OpsError as exc:
        logger.error("%s", exc)
        return Failed(message=str(exc))
    if not record.ok:
        logger.error("%s", record.verdict())
        return Failed(message=record.verdict())
    return record.verdict()
