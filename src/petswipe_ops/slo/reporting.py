"""One SLO report run: read the source, build the report, keep it in the history."""

from __future__ import annotations

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.slo import history
from petswipe_ops.slo.report import SloReport, build_report
from petswipe_ops.slo.source import SliSource
from petswipe_ops.slo.sources import source_for


def produce_report(
    config: EnvironmentConfig, source: SliSource | None = None, at: float | None = None
) -> SloReport:
    chosen = source or source_for(config)
    try:
        report = build_report(config, chosen, at)
    finally:
        close = getattr(chosen, "close", None)
        if source is None and close:
            close()
    return history.save(report, config.slo_alerting.report_retention_days)
