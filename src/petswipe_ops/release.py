"""What a release asks for, and the checks on it before anything changes."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from petswipe_ops.errors import ConfigError

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)


class Fault(BaseModel):
    """Faults injected into a local candidate, for demos and tests of the gates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: float = Field(0.0, ge=0, le=60_000)
    client_error_rate: float = Field(0.0, ge=0, le=1, description="share answered 401")

    @classmethod
    def parse(cls, text: str | None) -> Fault:
        """Read `error_rate=0.05,latency_ms=800,client_error_rate=0.05` (any, comma separated)."""
        if not text:
            return cls()
        values: dict[str, str] = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in cls.model_fields:
                raise ValueError(
                    f"'{part}' is not a fault; use error_rate=<0..1>, latency_ms=<ms> "
                    "and/or client_error_rate=<0..1>"
                )
            values[key.strip()] = value.strip()
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ValueError(f"{first['loc'][0]} {first['msg'].lower()}") from None

    def as_env(self) -> dict[str, str]:
        return {
            "PETSWIPE_FAULT_ERROR_RATE": str(self.error_rate),
            "PETSWIPE_FAULT_LATENCY_MS": str(self.latency_ms),
            "PETSWIPE_FAULT_CLIENT_ERROR_RATE": str(self.client_error_rate),
        }

    def __str__(self) -> str:
        parts = [f"{k}={v:g}" for k, v in self.model_dump().items() if v]
        return ",".join(parts) or "none"


def _semantic(version: str) -> str:
    if not SEMVER.match(version):
        raise ValueError(f"'{version}' is not a semantic version such as 1.4.0 or 2.0.0-rc.1")
    return version


def _fault_spec(text: str | None) -> str | None:
    Fault.parse(text)
    return text or None


SemanticVersion = Annotated[str, AfterValidator(_semantic)]
FaultSpec = Annotated[str | None, AfterValidator(_fault_spec)]
Request = TypeVar("Request", bound=BaseModel)


def parse_parameters(model: type[Request], raw: dict[str, Any] | Request, what: str) -> Request:
    """A flow's parameters as their model; a bad field is one ConfigError sentence."""
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        raise ConfigError(f"{what} parameter '{field}' is invalid: {message}.") from exc


class ReleaseRequest(BaseModel):
    """The release form: which version goes to which environment, and how."""

    model_config = ConfigDict(extra="forbid")

    environment: str = Field("local", description="deployments/<environment>.yaml")
    version: SemanticVersion = Field(description="semantic version of the build, e.g. 1.4.0")
    auto_approve: bool = Field(
        False,
        description="skip the manual approval where deployments/<env>.yaml allows it "
        "(approval.allow_auto)",
    )
    requested_by: str | None = Field(
        None,
        max_length=100,
        description="who asks for the release (a user or a CI token's name), for the record",
    )
    fault: FaultSpec = Field(
        None,
        description="local sandbox only: inject faults, e.g. error_rate=0.05 or latency_ms=800",
    )
    budget_override_reason: str | None = Field(
        None,
        max_length=500,
        description="release although the latest SLO report says the error budget is spent; "
        "the reason is recorded",
    )
    error_budget_remaining: float | None = Field(
        None,
        ge=0,
        le=1,
        description="share of the SLO's error budget left (0..1): none left refuses the "
        "release, under half makes the canary gate stricter",
    )
