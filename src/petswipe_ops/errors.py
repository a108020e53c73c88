"""Errors a user sees: each carries one sentence saying what is wrong and how to fix it."""


class OpsError(Exception):
    """Base for every failure that is reported to the user as a single sentence."""

    exit_code = 2


class ConfigError(OpsError):
    """An environment file, parameter or request is invalid."""


class MissingBinaryError(OpsError):
    """A required external program (haproxy, k6, terraform, ...) is not installed."""


class ExternalCommandError(OpsError):
    """An external program failed or timed out."""


class PolicyViolation(OpsError):
    """A rego policy denied the deployment."""


class MigrationChecksumError(OpsError):
    """An already applied migration script was edited after it ran."""


class SandboxError(OpsError):
    """The local sandbox could not be started, changed or read."""


class MetricsUnavailable(OpsError):
    """A version's metrics could not be read; the canary engine forgives a few in a row."""


class ReleaseCancelled(OpsError):
    """Someone cancelled the release's flow run (Prefect UI or CLI)."""

    exit_code = 1
