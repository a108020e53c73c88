"""The canary gate's SLO thresholds, derived from the same specs the budgets use.

Availability comes from the router events SLO, the error rate from the service events
SLO, and each latency threshold from the latency SLO whose objective is that quantile
(objective 0.95 with 500 ms is "p95 under 500 ms"). What the specs do not say keeps the
`slo:` block's value.
"""

from __future__ import annotations

from petswipe_ops.config import EnvironmentConfig, EventsIndicator, LatencyIndicator, Slo

QUANTILE_FIELDS = {0.5: "p50_ms", 0.95: "p95_ms", 0.99: "p99_ms"}


def gate_thresholds(config: EnvironmentConfig) -> Slo:
    values = config.slo.model_dump()
    for spec in config.slos:
        indicator = spec.indicator
        if isinstance(indicator, EventsIndicator) and indicator.source == "router":
            values["availability"] = spec.objective
        elif isinstance(indicator, EventsIndicator):
            values["error_rate"] = round(spec.budget, 10)
        elif isinstance(indicator, LatencyIndicator):
            field = QUANTILE_FIELDS.get(round(spec.objective, 4))
            if field:
                values[field] = indicator.threshold_ms
    return Slo.model_validate(values)
