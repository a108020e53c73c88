import math

import pytest

from petswipe_ops.metrics import VersionMetrics, parse_prometheus

TEXT = """\
# HELP petswipe_http_requests_total Requests.
# TYPE petswipe_http_requests_total counter
petswipe_http_requests_total{code="200",route="/api/pets"} 90.0
petswipe_http_requests_total{code="201",route="/api/swipes"} 5.0
petswipe_http_requests_total{code="500",route="/api/pets"} 4.0
petswipe_http_requests_total{code="404",route="/api/pets/{id}"} 1.0
# HELP petswipe_http_request_duration_seconds Latency.
# TYPE petswipe_http_request_duration_seconds histogram
petswipe_http_request_duration_seconds_bucket{le="0.1",route="/api/pets"} 80.0
petswipe_http_request_duration_seconds_bucket{le="0.5",route="/api/pets"} 90.0
petswipe_http_request_duration_seconds_bucket{le="1.0",route="/api/pets"} 94.0
petswipe_http_request_duration_seconds_bucket{le="+Inf",route="/api/pets"} 94.0
petswipe_http_request_duration_seconds_sum{route="/api/pets"} 12.0
petswipe_http_request_duration_seconds_count{route="/api/pets"} 94.0
petswipe_http_request_duration_seconds_bucket{le="0.1",route="/api/swipes"} 5.0
petswipe_http_request_duration_seconds_bucket{le="0.5",route="/api/swipes"} 5.0
petswipe_http_request_duration_seconds_bucket{le="1.0",route="/api/swipes"} 6.0
petswipe_http_request_duration_seconds_bucket{le="+Inf",route="/api/swipes"} 6.0
petswipe_http_request_duration_seconds_sum{route="/api/swipes"} 1.0
petswipe_http_request_duration_seconds_count{route="/api/swipes"} 6.0
"""


def test_parse_counts_requests_errors_and_merges_routes():
    metrics = parse_prometheus(TEXT)
    assert metrics.requests == 100
    assert metrics.errors == 4, "only 5xx responses are errors; 404 is the client's"
    assert metrics.client_errors == 1, "the 404 is counted as a client error"
    assert metrics.buckets == {0.1: 85, 0.5: 95, 1.0: 100, math.inf: 100}


def test_quantiles_interpolate_inside_the_bucket_like_promql():
    metrics = parse_prometheus(TEXT)
    assert metrics.quantile(0.5) == 50 / 85 * 100
    assert round(metrics.quantile(0.95)) == 500
    assert round(metrics.quantile(0.99)) == 900


def test_window_is_the_difference_of_two_reads():
    before = VersionMetrics(requests=10, errors=1, buckets={0.5: 10, math.inf: 10})
    after = VersionMetrics(requests=30, errors=4, buckets={0.5: 25, math.inf: 30})
    window = after - before
    assert (window.requests, window.errors, window.buckets[0.5], window.observed) == (20, 3, 15, 20)
    assert window.slower_than(500) == 5


def test_a_restarted_version_resets_the_window_to_its_new_counts():
    before = VersionMetrics(requests=100, errors=0, buckets={math.inf: 100})
    after = VersionMetrics(requests=7, errors=1, buckets={math.inf: 7})
    assert (after - before).requests == 7


def test_empty_window_has_no_quantile():
    assert VersionMetrics().quantile(0.95) is None


BEFORE = VersionMetrics(
    requests=100,
    errors=3,
    client_errors=5,
    buckets={0.1: 90, 0.5: 99, math.inf: 100},
    latency_sum_seconds=9.0,
)


@pytest.mark.parametrize(
    "change",
    [
        {"errors": 1},
        {"client_errors": 2},
        {"buckets": {0.1: 80, 0.5: 105, math.inf: 110}},
        {"buckets": {0.5: 105, math.inf: 110}},
        {"latency_sum_seconds": 4.0},
    ],
    ids=["errors", "4xx", "a bucket", "a missing bucket", "latency sum"],
)
def test_any_counter_going_down_is_a_restart(change):
    """Total requests went up, yet one counter went down: only a restart does that."""
    after = BEFORE.model_copy(update={"requests": 110, **change})
    window = after - BEFORE
    assert window == after, "the window starts again from the restarted process's counts"


def test_counters_that_only_grow_are_a_plain_difference():
    after = BEFORE.model_copy(
        update={
            "requests": 130,
            "errors": 4,
            "client_errors": 6,
            "buckets": {0.1: 118, 0.5: 129, math.inf: 130},
            "latency_sum_seconds": 12.0,
        }
    )
    window = after - BEFORE
    assert (window.requests, window.errors, window.client_errors) == (30, 1, 1)
    assert window.buckets == {0.1: 28, 0.5: 30, math.inf: 30}
    assert window.latency_sum_seconds == pytest.approx(3.0)


def test_router_errors_and_the_versions_own_counts_reset_apart():
    before = BEFORE.with_router_errors(40)
    restarted = VersionMetrics(requests=10, buckets={math.inf: 10}).with_router_errors(45)
    window = restarted - before
    assert (window.requests, window.errors, window.router_errors) == (15, 5, 5), (
        "the version restarted, the router did not: 10 served and 5 router errors"
    )
    router_restarted = BEFORE.model_copy(update={"requests": 120}).with_router_errors(2)
    window = router_restarted - before
    assert (window.requests, window.errors, window.router_errors) == (22, 2, 2)
