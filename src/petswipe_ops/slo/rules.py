"""Prometheus recording and alerting rules generated from the SLO specs, as Sloth does.

Per SLO: the error ratio of its SLI over every alert window; metadata (objective,
budget, burn rates, budget remaining over the SLO's own window); and the workbook's page
and ticket alerts, one rule per window pair so an alert says which pair fired. The
library's report computes its own figures from the event counts and its own alert
states, so the two can be checked against each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from petswipe_ops.config import EnvironmentConfig, SloSpec
from petswipe_ops.slo.queries import sli_queries
from petswipe_ops.slo.windows import CONDITIONS, Severity, window_name, windows_of

RATIO = "slo:sli_error:ratio_rate{window}"
ALERT_NAMES = {Severity.PAGE: "SLOBurnRatePage", Severity.TICKET: "SLOBurnRateTicket"}
EXHAUSTED_ALERT = "SLOErrorBudgetExhausted"
LOW_ALERT = "SLOErrorBudgetLow"


def _labels(config: EnvironmentConfig, slo: SloSpec) -> dict[str, str]:
    return {"environment": config.environment, "slo": slo.name}


def _select(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _ratio(config: EnvironmentConfig, slo: SloSpec, window: str) -> str:
    selected = _select(RATIO.format(window=window), _labels(config, slo))
    return f"max without (window) ({selected})"


def recording_rules(config: EnvironmentConfig, slo: SloSpec) -> list[dict[str, Any]]:
    queries = sli_queries(slo, config.slo_alerting.prometheus_selector)
    return [
        {
            "record": RATIO.format(window=window),
            "expr": queries.error_ratio(window),
            "labels": {**_labels(config, slo), "window": window},
        }
        for window in windows_of(slo)
    ]


def metadata_rules(config: EnvironmentConfig, slo: SloSpec) -> list[dict[str, Any]]:
    labels = _labels(config, slo)
    budget = f"{slo.budget:.10g}"
    period = _ratio(config, slo, window_name(slo))
    return [
        {
            "record": "slo:objective:ratio",
            "expr": f"vector({slo.objective:.10g})",
            "labels": labels,
        },
        {"record": "slo:error_budget:ratio", "expr": f"vector({budget})", "labels": labels},
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"{_ratio(config, slo, '5m')} / {budget}",
            "labels": labels,
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"{period} / {budget}",
            "labels": {**labels, "period": slo.window},
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - {period} / {budget}",
            "labels": {**labels, "period": slo.window},
        },
    ]


def alert_rules(config: EnvironmentConfig, slo: SloSpec) -> list[dict[str, Any]]:
    labels = _labels(config, slo)
    rules = []
    for condition in CONDITIONS:
        limit = f"({condition.factor:g} * {slo.budget:.10g})"
        rules.append(
            {
                "alert": ALERT_NAMES[condition.severity],
                "expr": f"{_ratio(config, slo, condition.long)} > {limit} "
                f"and {_ratio(config, slo, condition.short)} > {limit}",
                "labels": {
                    **labels,
                    "severity": condition.severity.value,
                    "burn_window": condition.label,
                },
                "annotations": {
                    "summary": f"{config.environment} {slo.name}: error budget burning at "
                    f"{condition.factor:g}x or faster over {condition.long} and {condition.short}",
                },
            }
        )
    remaining = _select("slo:period_error_budget_remaining:ratio", labels)
    low = config.slo_alerting.budget_low_below
    rules.append(
        {
            "alert": EXHAUSTED_ALERT,
            "expr": f"{remaining} <= 0",
            "labels": {**labels, "severity": Severity.PAGE.value},
            "annotations": {"summary": f"{config.environment} {slo.name}: error budget spent"},
        }
    )
    rules.append(
        {
            "alert": LOW_ALERT,
            "expr": f"{remaining} < {low:g} and {remaining} > 0",
            "labels": {**labels, "severity": Severity.TICKET.value},
            "annotations": {
                "summary": f"{config.environment} {slo.name}: under {low:.0%} of the error "
                "budget left"
            },
        }
    )
    return rules


def rule_groups(config: EnvironmentConfig) -> dict[str, Any]:
    """One group per SLO, recordings first: rules of a group run in order at one evaluation,
    so an alert sees the ratios of that same evaluation, not the previous one."""
    return {
        "groups": [
            {
                "name": f"slo-{config.environment}-{slo.name}",
                "rules": recording_rules(config, slo)
                + metadata_rules(config, slo)
                + alert_rules(config, slo),
            }
            for slo in config.slos
        ]
    }


def render_rules(config: EnvironmentConfig) -> str:
    header = (
        f"# SLO rules of {config.environment}, generated from deployments/"
        f"{config.environment}.yaml; regenerate instead of editing.\n"
    )
    return header + yaml.safe_dump(rule_groups(config), sort_keys=False, width=1000)


def write_rules(config: EnvironmentConfig, path: Path) -> Path:
    """Write the rules file only when it changed, so a running server needs no reload."""
    text = render_rules(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text)
        temporary.replace(path)
    return path
