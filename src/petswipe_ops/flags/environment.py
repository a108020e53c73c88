"""Which flag store, metrics and deployer serve an environment, local or AWS."""

from __future__ import annotations

from pathlib import Path

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.flags.metrics import ServiceFlagMetrics
from petswipe_ops.flags.rollout import FlagRollout, RolloutLedger
from petswipe_ops.flags.store import FlagStore, LocalFlagStore
from petswipe_ops.paths import run_dir


def flags_dir(environment: str) -> Path:
    return run_dir(environment) / "flags"


def service_env(config: EnvironmentConfig) -> dict[str, str]:
    """Where a local service version reads its flags, and how often."""
    store = LocalFlagStore(flags_dir(config.environment))
    return {
        "PETSWIPE_FLAGS_FILE": str(store.current),
        "PETSWIPE_FLAGS_REFRESH_SECONDS": str(config.feature_flags.refresh_seconds),
    }


def store_for(config: EnvironmentConfig) -> FlagStore:
    if config.aws is not None:
        from petswipe_ops.flags.appconfig import AppConfigFlagStore

        settings = config.feature_flags
        return AppConfigFlagStore(
            settings.appconfig_application,
            settings.appconfig_profile,
            config.aws.region,
            id_cache=flags_dir(config.environment) / "appconfig-ids.json",
        )
    return LocalFlagStore(flags_dir(config.environment))


def metrics_for(config: EnvironmentConfig) -> ServiceFlagMetrics | None:
    """Local: every running version's /metrics. AWS: none yet, so steps are only timed."""
    if config.local is None:
        return None
    from petswipe_ops.platform.local.sandbox import LocalSandbox

    sandbox = LocalSandbox(config)
    return ServiceFlagMetrics(lambda: [i.endpoint for i in sandbox.services.running()])


def rollout_for(config: EnvironmentConfig) -> FlagRollout:
    store = store_for(config)
    on_version = None
    settings = config.feature_flags
    if config.aws is not None and settings.appconfig_environment_id:
        environment_id = settings.appconfig_environment_id

        def on_version(number: int, why: str) -> None:
            store.deploy(environment_id, number, why)

    return FlagRollout(
        config,
        store,
        RolloutLedger(flags_dir(config.environment) / "rollouts"),
        metrics=metrics_for(config),
        on_version=on_version,
    )
