"""SLIs from CloudWatch ALB metrics, on a real moto server."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import boto3
import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.paths import project_root
from petswipe_ops.slo.cloudwatch import CloudWatchSource
from petswipe_ops.slo.report import AlertState, build_report
from petswipe_ops.slo.sources import source_for
from tests.fixtures.stack_outputs import save_stack_outputs


def test_events_slis_from_alb_sums_and_no_latency_data(moto_endpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    lb = save_stack_outputs("staging").load_balancer_arn_suffix
    config = load_environment("staging", project_root())
    source = source_for(config)
    assert isinstance(source, CloudWatchSource)
    assert source.load_balancer == lb
    cloudwatch = boto3.client("cloudwatch", region_name=config.aws.region)
    now = time.time()
    for minutes_ago in range(1, 31):
        stamp = datetime.fromtimestamp(now - minutes_ago * 60, UTC)
        dims = [{"Name": "LoadBalancer", "Value": lb}]
        cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {
                    "MetricName": "RequestCount",
                    "Dimensions": dims,
                    "Timestamp": stamp,
                    "Value": 1000,
                },
                {
                    "MetricName": "HTTPCode_ELB_5XX_Count",
                    "Dimensions": dims,
                    "Timestamp": stamp,
                    "Value": 20 if minutes_ago <= 5 else 0,
                },
            ],
        )
    report = build_report(config, source, now)
    availability = report.status("availability")
    assert availability.burns["1h"].total == pytest.approx(30_000)
    assert availability.burns["1h"].bad == pytest.approx(100)
    assert availability.burn("5m") == pytest.approx(20, rel=0.25)
    assert report.status("latency-p95").state is AlertState.NO_DATA


def test_cloudwatch_errors_are_one_sentence(moto_endpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    save_stack_outputs("staging")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    config = load_environment("staging", project_root())
    with pytest.raises(MetricsUnavailable, match="CloudWatch did not return the ALB metrics"):
        source_for(config).counts(config.slos[0], 3600, time.time())
