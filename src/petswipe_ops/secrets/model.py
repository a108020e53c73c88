"""What a secret is: its kind, its name per environment, its stages and how often it rotates."""

from __future__ import annotations

from enum import StrEnum

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import ConfigError

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"


class SecretKind(StrEnum):
    DB = "db"
    API_KEY = "api-key"
    JWT = "jwt"


SUFFIX = {
    SecretKind.DB: "db-credentials",
    SecretKind.API_KEY: "api-key",
    SecretKind.JWT: "jwt-signing-key",
}
ROTATION_DAYS = {SecretKind.DB: 30, SecretKind.API_KEY: 90, SecretKind.JWT: 90}


def parse_kind(raw: str) -> SecretKind:
    try:
        return SecretKind(raw)
    except ValueError:
        known = ", ".join(k.value for k in SecretKind)
        raise ConfigError(f"unknown secret '{raw}'; choose one of: {known}.") from None


def prefix(config: EnvironmentConfig) -> str:
    """petswipe/<env>/: the names terraform/environments/aws gives the stack's secrets in
    Secrets Manager, and the same shape locally."""
    return f"petswipe/{config.environment}/"


def secret_name(config: EnvironmentConfig, kind: SecretKind) -> str:
    return prefix(config) + SUFFIX[kind]


def master_secret_name(config: EnvironmentConfig) -> str:
    """The database's administrator credentials, which alternate-user rotation needs."""
    return prefix(config) + "db-master"
