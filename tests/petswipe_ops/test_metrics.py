import math

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
