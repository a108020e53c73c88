"""Which store and which target rotate a secret of an environment, local or AWS."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from sqlalchemy import make_url

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import run_dir
from petswipe_ops.secrets.model import (
    CURRENT,
    SecretKind,
    master_secret_name,
    secret_name,
)
from petswipe_ops.secrets.records import RotationLedger
from petswipe_ops.secrets.rotation import Rotation
from petswipe_ops.secrets.store import LocalSecretStore, SecretStore, staged_value
from petswipe_ops.secrets.targets import (
    DbCredentials,
    PostgresAlternatingUsers,
    RotationTarget,
    ServiceKeys,
    StoredOnly,
)


def local_store_path(environment: str) -> Path:
    return run_dir(environment) / "secrets" / "store.json"


def service_env(config: EnvironmentConfig) -> dict[str, str]:
    """Where a local service version finds its secrets (paths and names, never values)."""
    return {
        "PETSWIPE_SECRETS_FILE": str(local_store_path(config.environment)),
        "PETSWIPE_DB_SECRET": secret_name(config, SecretKind.DB),
        "PETSWIPE_API_KEY_SECRET": secret_name(config, SecretKind.API_KEY),
        "PETSWIPE_JWT_SECRET": secret_name(config, SecretKind.JWT),
    }


def store_for(config: EnvironmentConfig) -> SecretStore:
    if config.aws is not None:
        from petswipe_ops.secrets.aws import SecretsManagerStore

        return SecretsManagerStore(config.aws.region)
    return LocalSecretStore(local_store_path(config.environment))


def _local_reload(config: EnvironmentConfig) -> str:
    """SIGHUP every running service version: it re-reads the store at once."""
    from petswipe_ops.platform.local.sandbox import LocalSandbox

    count = 0
    for instance in LocalSandbox(config).services.running():
        try:
            os.kill(int(instance.handle), signal.SIGHUP)
            count += 1
        except ProcessLookupError:
            continue
    return f"{count} service version(s) signalled to reload"


def _local_endpoints(config: EnvironmentConfig) -> list[str]:
    from petswipe_ops.platform.local.sandbox import LocalSandbox

    return [i.endpoint for i in LocalSandbox(config).services.running()]


def _local_db_admin(config: EnvironmentConfig) -> DbCredentials:
    from petswipe_ops.platform.local.sandbox import LocalSandbox

    sandbox = LocalSandbox(config)
    if sandbox.postgres is None:
        raise ConfigError(
            f"environment '{config.environment}' has no sandbox PostgreSQL (local.postgres) "
            "whose credentials the sandbox owns; database credentials rotate only there."
        )
    sandbox.start_database()
    url = make_url(sandbox.postgres.url)
    return DbCredentials(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        dbname=url.database or "petswipe",
        username=url.username or "postgres",
        password=url.password or "",
    )


def _aws_db_admin(config: EnvironmentConfig, store: SecretStore) -> DbCredentials:
    name = master_secret_name(config)
    raw = staged_value(store, name, CURRENT)
    if raw is None:
        raise ConfigError(
            f"Secrets Manager has no {CURRENT} value of {name}; store the database's "
            "administrator credentials there before rotating the application's."
        )
    return DbCredentials.load(raw)


def target_for(config: EnvironmentConfig, kind: SecretKind, store: SecretStore) -> RotationTarget:
    if config.aws is not None:
        if kind is SecretKind.DB:
            return PostgresAlternatingUsers(_aws_db_admin(config, store))
        name = secret_name(config, kind)
        return StoredOnly(kind, lambda vid: store.value(name, vid))
    if kind is SecretKind.DB:
        return PostgresAlternatingUsers(
            _local_db_admin(config), reload=lambda: _local_reload(config)
        )
    return ServiceKeys(
        kind, endpoints=lambda: _local_endpoints(config), reload=lambda: _local_reload(config)
    )


def rotation_for(config: EnvironmentConfig, kind: SecretKind) -> Rotation:
    store = store_for(config)
    return Rotation(
        config.environment,
        secret_name(config, kind),
        store,
        target_for(config, kind, store),
        RotationLedger(run_dir(config.environment) / "rotations"),
    )
