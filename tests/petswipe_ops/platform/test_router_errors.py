"""The router's own 5xx folded into a version's metrics, without counting any twice."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from petswipe_ops.errors import MetricsUnavailable
from petswipe_ops.metrics import VersionMetrics
from petswipe_ops.platform.local.haproxy import HaproxyRuntime, HaproxyServerErrors
from petswipe_ops.platform.router_errors import STALE_READS, RouterCounts, WithRouterErrors
from petswipe_ops.platform.seams import VersionInstance

CANDIDATE = VersionInstance(version="2.0.0", role="candidate", endpoint="http://c", handle="1")

SHOW_STAT = """\
# pxname,svname,qcur,scur,stot,econ,eresp,wretr,wredis,status,hrsp_5xx,
petswipe_front,FRONTEND,0,0,90,,,,,OPEN,3,
petswipe,stable,0,0,60,0,0,0,0,UP,2,
petswipe,candidate,0,0,30,3,1,3,0,UP,0,
petswipe,BACKEND,0,0,90,3,1,3,0,UP,5,
"""


class Runtime(HaproxyRuntime):
    """The runtime client with HAProxy's answer given, so its parsing is what is tested."""

    def __init__(self, reply: str) -> None:
        super().__init__(Path("unused.sock"))
        self.reply, self.lines = reply, []

    def command(self, line: str) -> str:
        self.lines.append(line)
        return self.reply


class Scripted:
    """A version's own reads, then failures once it has died."""

    def __init__(self, *reads: VersionMetrics | None) -> None:
        self.reads = list(reads)

    def read(self, instance: VersionInstance) -> VersionMetrics:
        read = self.reads.pop(0)
        if read is None:
            raise MetricsUnavailable("could not read metrics of version 2.0.0: refused.")
        return read


class Counter:
    """The router's counts read after read: (errors, failed attempts) or errors alone."""

    def __init__(self, *counts: int | tuple[int, int]) -> None:
        self.counts = [c if isinstance(c, tuple) else (c, c) for c in counts]

    def router_counts(self, instance: VersionInstance) -> RouterCounts:
        errors, attempts = self.counts.pop(0)
        return RouterCounts(errors=errors, attempts=attempts)


def own(requests: int, errors: int = 0) -> VersionMetrics:
    return VersionMetrics(requests=requests, errors=errors, buckets={math.inf: requests})


def test_haproxy_counts_failed_connections_and_responses_of_the_versions_server():
    runtime = Runtime(SHOW_STAT)
    counts = HaproxyServerErrors(runtime).router_counts(CANDIDATE)
    assert (counts.errors, counts.attempts) == (4, 7), "econ 3 + eresp 1, and 3 retries"
    assert runtime.lines == ["show stat petswipe 4 -1"]
    stable = CANDIDATE.model_copy(update={"role": "stable"})
    assert HaproxyServerErrors(runtime).router_counts(stable).errors == 0, "its 5xx are its own"


def test_a_server_haproxy_does_not_know_is_metrics_unavailable():
    other = CANDIDATE.model_copy(update={"role": "shadow"})
    with pytest.raises(MetricsUnavailable, match="HAProxy has no server shadow in petswipe"):
        HaproxyServerErrors(Runtime(SHOW_STAT)).router_counts(other)


def test_router_errors_add_to_requests_and_errors_but_not_to_what_the_version_served():
    source = WithRouterErrors(Scripted(own(100, 2), own(150, 3)), Counter(10, 16))
    first, second = source.read(CANDIDATE), source.read(CANDIDATE)
    window = second - first
    assert (window.requests, window.errors, window.router_errors) == (56, 7, 6)
    assert window.served == 50


def test_a_dead_version_is_judged_on_the_routers_503s_while_it_keeps_trying_it():
    dead = [None] * (3 + STALE_READS + 1)
    routed = [(0, 0), (0, 1), (1, 2), (25, 25), *[(25, 25)] * STALE_READS, (25, 25)]
    source = WithRouterErrors(Scripted(own(100), *dead), Counter(*routed))
    first = source.read(CANDIDATE)
    assert (source.read(CANDIDATE) - first).requests == 0, "a retry, no 503 yet"
    assert (source.read(CANDIDATE) - first).errors == 1
    window = source.read(CANDIDATE) - first
    assert (window.requests, window.errors, window.served) == (25, 25, 0)
    for _ in range(STALE_READS):
        source.read(CANDIDATE)
    with pytest.raises(MetricsUnavailable, match="refused"):
        source.read(CANDIDATE)


def test_a_dead_version_the_router_never_tried_fails_its_read():
    source = WithRouterErrors(Scripted(own(100), None), Counter(3, 3))
    source.read(CANDIDATE)
    with pytest.raises(MetricsUnavailable):
        source.read(CANDIDATE)


def test_a_version_never_read_is_not_judged_on_the_router_alone():
    with pytest.raises(MetricsUnavailable):
        WithRouterErrors(Scripted(None), Counter(5)).read(CANDIDATE)
