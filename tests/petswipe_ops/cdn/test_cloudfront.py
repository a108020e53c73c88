"""CloudFront invalidation against a real moto server: create_invalidation, then the
`invalidation_completed` waiter, for the paths a user or a release names."""

from __future__ import annotations

import boto3
import pytest

from petswipe_ops.cdn.cloudfront import CloudFrontError
from petswipe_ops.cdn.invalidation import invalidate, invalidate_release_paths
from petswipe_ops.config import load_environment

pytestmark = pytest.mark.integration


def _distribution(region: str) -> str:
    cf = boto3.client("cloudfront", region_name=region)
    origin = {"Id": "alb", "DomainName": "petswipe-staging.example.com"}
    origin["CustomOriginConfig"] = {
        "HTTPPort": 80,
        "HTTPSPort": 443,
        "OriginProtocolPolicy": "https-only",
    }
    created = cf.create_distribution(
        DistributionConfig={
            "CallerReference": "petswipe-test",
            "Comment": "petswipe staging",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "alb",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return created["Distribution"]["Id"]


def test_invalidation_on_cloudfront_completes(moto_endpoint, make_project):
    project = make_project()
    distribution = _distribution(moto_endpoint.region)
    project.edit(
        "staging",
        lambda d: d.update(
            cdn={"cloudfront_distribution_id": distribution, "invalidate_on_release": ["/static/*"]}
        ),
        source="staging",
    )
    config = load_environment("staging", project.root)

    result = invalidate(config, ["/api/*", "/static/*"])
    released = invalidate_release_paths(config)

    cf = boto3.client("cloudfront", region_name=moto_endpoint.region)
    listed = cf.list_invalidations(DistributionId=distribution)["InvalidationList"]["Items"]
    assert {i["Id"] for i in listed} == {result.reference, released.reference}
    batch = cf.get_invalidation(DistributionId=distribution, Id=result.reference)["Invalidation"]
    assert batch["Status"] == "COMPLETED"
    assert sorted(batch["InvalidationBatch"]["Paths"]["Items"]) == ["/api/*", "/static/*"]
    assert released.paths == ["/static/*"]


def test_an_unknown_distribution_is_one_sentence(moto_endpoint, make_project):
    project = make_project()
    project.edit(
        "staging", lambda d: d.update(cdn={"cloudfront_distribution_id": "E0NOPE"}), "staging"
    )
    with pytest.raises(CloudFrontError, match="CloudFront refused the invalidation on E0NOPE"):
        invalidate(load_environment("staging", project.root), ["/static/*"])
