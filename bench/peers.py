"""Default decision rules of other canary tools, re-implemented from their documentation.

Each rule reads the same simulated canary traffic as the sequential gate, as per-window
aggregates (requests, 5xx errors, latency histogram), and returns per trial the time of
its verdict and whether it rolled back. Where a tool's behaviour depends on the metrics
pipeline, the choice made here is the one most favourable to the tool.

- Flagger (docs, `analysis`): `interval: 1m`, `threshold: 5`, built-in checks
  `request-success-rate` >= 99 % and `request-duration` (p99) <= 500 ms, each over the
  last 1 m. Every interval the scheduler first rolls back if failed checks >= threshold,
  then runs the checks: a failure adds one, a pass advances the canary weight (the step
  is promoted). So five failures roll back at the sixth interval, 6 minutes in.
- Argo Rollouts (docs, "Background Analysis"): `interval: 5m`, `successCondition:
  result >= 0.95`, `failureLimit: 3` on `irate(...[5m])` success rate; steps
  `setWeight` then `pause: {duration: 10m}`. The controller fails a metric when
  failed > failureLimit, i.e. on the fourth failed measurement (the prose says "three
  such measurements"; the code counts more than three). `irate` uses the last two
  scrapes, here 15 s apart. The step is promoted when its pause ends, analysis or not;
  the background run goes on into later steps, so a rollback may come after that.
- AWS CodeDeploy `CodeDeployDefault.ECSCanary10Percent5Minutes`: 10 % of traffic for
  5 minutes, then all of it. Rollback when a CloudWatch alarm fires: here one alarm on
  the canary's 5xx ratio > 1 % and one on p99 > 500 ms, period 1 minute, 1 of 1
  datapoints, evaluated the moment each minute ends (CloudWatch's publication delay,
  which only slows it down, is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLAGGER_INTERVAL_S = 60
FLAGGER_THRESHOLD = 5
FLAGGER_MIN_SUCCESS = 0.99
FLAGGER_MAX_P99_S = 0.5

ARGO_INTERVAL_S = 300
ARGO_FAILURE_LIMIT = 3
ARGO_MIN_SUCCESS = 0.95
ARGO_STEP_PAUSE_S = 600
ARGO_SCRAPE_S = 15

CODEDEPLOY_CANARY_S = 300
CODEDEPLOY_PERIOD_S = 60
CODEDEPLOY_MAX_ERROR_RATIO = 0.01
CODEDEPLOY_MAX_P99_S = 0.5


@dataclass(frozen=True)
class Outcome:
    """Per trial: seconds until the verdict, and whether it was a rollback."""

    seconds: np.ndarray
    rolled_back: np.ndarray
    promoted_step_at: np.ndarray


def window_quantile(counts: np.ndarray, bounds: np.ndarray, q: float) -> np.ndarray:
    """PromQL `histogram_quantile` over per-bucket counts (last column is +Inf)."""
    cumulative = np.cumsum(counts, axis=-1)
    total = cumulative[..., -1]
    rank = q * total
    index = np.argmax(cumulative >= rank[..., None], axis=-1)
    finite = np.concatenate([[0.0], bounds])
    lower = np.take(finite, index)
    upper = np.take(np.concatenate([bounds, [bounds[-1]]]), index)
    below = np.where(
        index > 0,
        np.take_along_axis(cumulative, np.maximum(index - 1, 0)[..., None], -1)[..., 0],
        0,
    )
    inside = np.take_along_axis(counts, index[..., None], -1)[..., 0]
    fraction = np.where(inside > 0, (rank - below) / np.maximum(inside, 1), 1.0)
    value = lower + (upper - lower) * fraction
    in_overflow = index == len(bounds)
    value = np.where(in_overflow, bounds[-1], value)
    return np.where(total > 0, value, np.nan)


def flagger(
    requests: np.ndarray, errors: np.ndarray, buckets: np.ndarray, bounds: np.ndarray
) -> Outcome:
    """Flagger's default analysis on per-minute windows (trials x minutes)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        success = 1 - errors / requests
    p99 = window_quantile(buckets, bounds, 0.99)
    failed = ~(success >= FLAGGER_MIN_SUCCESS) | ~(p99 <= FLAGGER_MAX_P99_S)
    trials, windows = requests.shape
    seconds = np.full(trials, np.nan)
    rolled_back = np.zeros(trials, dtype=bool)
    for trial in range(trials):
        failures = 0
        for check in range(windows + 1):
            at = (check + 1) * FLAGGER_INTERVAL_S
            if failures >= FLAGGER_THRESHOLD:
                seconds[trial], rolled_back[trial] = at, True
                break
            if check == windows:
                break
            if failed[trial, check]:
                failures += 1
            else:
                seconds[trial] = at
                break
    return Outcome(seconds, rolled_back, np.where(rolled_back, np.nan, seconds))


def argo(measured_requests: np.ndarray, measured_errors: np.ndarray) -> Outcome:
    """Argo's documented background analysis: one irate measurement every 5 minutes."""
    with np.errstate(invalid="ignore", divide="ignore"):
        success = 1 - measured_errors / measured_requests
    failed = ~(success >= ARGO_MIN_SUCCESS)
    count = np.cumsum(failed, axis=1)
    aborted = count > ARGO_FAILURE_LIMIT
    rolled_back = aborted.any(axis=1)
    first = np.argmax(aborted, axis=1)
    seconds = np.where(rolled_back, (first + 1) * ARGO_INTERVAL_S, np.nan)
    promoted = np.where(rolled_back & (seconds <= ARGO_STEP_PAUSE_S), np.nan, ARGO_STEP_PAUSE_S)
    return Outcome(seconds, rolled_back, promoted)


def codedeploy(
    requests: np.ndarray, errors: np.ndarray, buckets: np.ndarray, bounds: np.ndarray
) -> Outcome:
    """Canary10Percent5Minutes with 1-minute alarms on the canary's errors and p99."""
    minutes = CODEDEPLOY_CANARY_S // CODEDEPLOY_PERIOD_S
    requests, errors, buckets = requests[:, :minutes], errors[:, :minutes], buckets[:, :minutes]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = errors / requests
    p99 = window_quantile(buckets, bounds, 0.99)
    alarm = (ratio > CODEDEPLOY_MAX_ERROR_RATIO) | (p99 > CODEDEPLOY_MAX_P99_S)
    rolled_back = alarm.any(axis=1)
    first = np.argmax(alarm, axis=1)
    seconds = np.where(rolled_back, (first + 1) * CODEDEPLOY_PERIOD_S, CODEDEPLOY_CANARY_S)
    return Outcome(seconds.astype(float), rolled_back, np.where(rolled_back, np.nan, seconds))
