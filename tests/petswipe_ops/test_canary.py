"""The canary engine's windows: summed from read to read, so a restart loses little."""

import math

from petswipe_ops.canary import Windows
from petswipe_ops.metrics import VersionMetrics


def read(requests: int, errors: int = 0) -> VersionMetrics:
    return VersionMetrics(requests=requests, errors=errors, buckets={math.inf: requests})


def test_a_restart_mid_step_keeps_what_was_counted_before_it():
    windows = Windows((read(1000, 5), read(5000)))
    windows.advance((read(1100, 6), read(5900)))
    candidate, stable = windows.advance((read(30, 1), read(6800)))
    assert (candidate.requests, candidate.errors) == (130, 2), "100 before, 30 after it"
    candidate, _ = windows.advance((read(1200, 1), read(7700)))
    assert candidate.requests == 1300, "once past the old counts, still no reset is missed"
    assert stable.requests == 1800
