"""The SLI source of an environment: its Prometheus where there is one, else CloudWatch."""

from __future__ import annotations

from petswipe_ops.config import EnvironmentConfig, PlatformKind
from petswipe_ops.errors import ConfigError
from petswipe_ops.slo.source import PrometheusSource, SliSource


def prometheus_url(config: EnvironmentConfig) -> str | None:
    if config.slo_alerting.prometheus_url:
        return config.slo_alerting.prometheus_url
    if config.platform is PlatformKind.LOCAL and config.local is not None:
        return f"http://127.0.0.1:{config.local.prometheus_port}"
    return None


def source_for(config: EnvironmentConfig) -> SliSource:
    url = prometheus_url(config)
    if url:
        return PrometheusSource(url, config.slo_alerting.prometheus_selector)
    if config.aws is None:
        raise ConfigError(
            f"environment '{config.environment}' has no SLI source; set "
            "slo_alerting.prometheus_url in its deployments file."
        )
    from petswipe_ops.slo.cloudwatch import CloudWatchSource

    return CloudWatchSource.for_environment(config)
