"""Flags as AppConfig hosted configuration versions on a real moto server; the deployment
calls moto lacks (StartDeployment, CreateDeploymentStrategy) are checked against botocore's
AppConfig service model instead, which is what AWS validates requests against."""

from __future__ import annotations

import json

import boto3
import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.flags.appconfig import AppConfigError, AppConfigFlagStore, checked
from petswipe_ops.flags.environment import store_for
from petswipe_ops.flags.model import FeatureFlags, FlagError
from petswipe_ops.flags.rollout import FlagRollout, RolloutLedger, Strategy

pytestmark = pytest.mark.integration
FLAG = "recommended-feed"


def test_rollout_on_aws_stores_a_hosted_version_per_step(moto_endpoint, make_project, tmp_path):
    project = make_project()
    config = load_environment("staging", project.root)
    store = store_for(config)
    assert isinstance(store, AppConfigFlagStore)
    rollout = FlagRollout(config, store, RolloutLedger(tmp_path), sleep=lambda _s: None)

    record = rollout.enable(FLAG, Strategy.GRADUAL, scale=0.0)
    rollout.disable(FLAG, "test over")

    assert record.outcome == "enabled"
    client = boto3.client("appconfig", region_name=moto_endpoint.region)
    app_id, profile_id = store.ids()
    profile = client.get_configuration_profile(
        ApplicationId=app_id, ConfigurationProfileId=profile_id
    )
    assert profile["Type"] == "AWS.AppConfig.FeatureFlags"
    percentages = []
    for number in range(1, 7):
        version = client.get_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=number
        )
        document = FeatureFlags.model_validate(json.loads(version["Content"].read()))
        percentages.append(document.percentage(FLAG))
    assert percentages == [20, 40, 60, 80, 100, 0]
    assert store.latest().number == 6


def test_deployment_requests_match_appconfig_s_service_model(moto_endpoint):
    store = AppConfigFlagStore("petswipe", "feature-flags", moto_endpoint.region)
    strategy = store.strategy_request()
    assert strategy["DeploymentDurationInMinutes"] == 0 and strategy["GrowthFactor"] == 100
    request = store.deployment_request("env123", "strat12", 4, "recommended-feed at 20 %")
    assert request["ConfigurationVersion"] == "4"
    with pytest.raises(AppConfigError, match="does not match AppConfig's API"):
        checked(store.client, "StartDeployment", {**request, "ConfigurationVersion": 4})
    with pytest.raises(AppConfigError, match="does not match AppConfig's API"):
        checked(store.client, "StartDeployment", {"ApplicationId": "a"})


def test_a_document_breaking_the_format_is_refused():
    with pytest.raises(FlagError, match="not a valid feature-flag document"):
        FeatureFlags.parse({"version": "1", "flags": {"Bad Name": {"name": "x"}}}, "doc")
    with pytest.raises(FlagError, match="rollout_percentage must be at most 100"):
        FeatureFlags.parse(
            {
                "version": "1",
                "flags": {
                    "f": {
                        "name": "F",
                        "attributes": {
                            "rollout_percentage": {
                                "constraints": {"type": "number", "maximum": 100}
                            }
                        },
                    }
                },
                "values": {"f": {"enabled": True, "rollout_percentage": 120}},
            },
            "doc",
        )
