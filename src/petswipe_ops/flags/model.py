"""AppConfig's `AWS.AppConfig.FeatureFlags` document: flag definitions plus their values.

The same document is a hosted configuration version on AWS and a version file locally,
so what the reference service reads is what AppConfig would deliver.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from petswipe_ops.errors import ConfigError

NAME = re.compile(r"^[a-z][a-zA-Z\d_-]{0,63}$")
ROLLOUT = "rollout_percentage"


class FlagError(ConfigError):
    """A flag name, value or strategy is invalid or unknown."""


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise FlagError(
            f"'{name}' is not a valid flag name; it must match ^[a-z][a-zA-Z\\d_-]{{0,63}}$ "
            "(a lowercase letter, then letters, digits, '_' or '-', 64 at most)."
        )
    return name


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Constraints(Doc):
    type: Literal["string", "number", "boolean", "string[]", "number[]"]
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    enum: list[Any] | None = None


class AttributeDefinition(Doc):
    description: str | None = None
    constraints: Constraints | None = None


class FlagDefinition(Doc):
    name: str
    description: str | None = None
    created_at: str | None = Field(None, alias="_createdAt")
    updated_at: str | None = Field(None, alias="_updatedAt")
    attributes: dict[str, AttributeDefinition] = Field(default_factory=dict)


def _check_attribute(flag: str, attr: str, value: Any, spec: AttributeDefinition) -> None:
    c = spec.constraints
    if c is None:
        return
    kinds = {"string": str, "number": (int, float), "boolean": bool}
    if c.type in kinds and (
        not isinstance(value, kinds[c.type]) or (c.type == "number" and isinstance(value, bool))
    ):
        raise ValueError(f"{flag}.{attr} must be a {c.type}")
    if c.minimum is not None and value < c.minimum:
        raise ValueError(f"{flag}.{attr} must be at least {c.minimum:g}")
    if c.maximum is not None and value > c.maximum:
        raise ValueError(f"{flag}.{attr} must be at most {c.maximum:g}")
    if c.enum is not None and value not in c.enum:
        raise ValueError(f"{flag}.{attr} must be one of {c.enum}")
    if c.pattern is not None and not re.fullmatch(c.pattern, str(value)):
        raise ValueError(f"{flag}.{attr} must match {c.pattern}")


class FeatureFlags(Doc):
    version: Literal["1"] = "1"
    flags: dict[str, FlagDefinition] = Field(default_factory=dict)
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> FeatureFlags:
        for name in self.flags:
            if not NAME.match(name):
                raise ValueError(f"flag name {name!r} does not match {NAME.pattern}")
        for name, value in self.values.items():
            if name not in self.flags:
                raise ValueError(f"value for undefined flag {name!r}")
            if not isinstance(value.get("enabled"), bool):
                raise ValueError(f"{name}.enabled must be true or false")
            spec = self.flags[name].attributes
            for attr, attr_spec in spec.items():
                if attr in value:
                    _check_attribute(name, attr, value[attr], attr_spec)
                elif attr_spec.constraints and attr_spec.constraints.required:
                    raise ValueError(f"{name}.{attr} is required")
        return self

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> FeatureFlags:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise FlagError(
                f"{where} is not a valid feature-flag document: {first['msg']}."
            ) from None

    def require(self, name: str) -> FlagDefinition:
        check_name(name)
        if name not in self.flags:
            known = ", ".join(sorted(self.flags)) or "none"
            raise FlagError(f"unknown flag '{name}'; known flags: {known}.")
        return self.flags[name]

    def enabled(self, name: str) -> bool:
        return bool(self.values.get(name, {}).get("enabled", False))

    def percentage(self, name: str) -> float:
        if not self.enabled(name):
            return 0.0
        return float(self.values.get(name, {}).get(ROLLOUT, 100))

    def with_rollout(self, name: str, enabled: bool, percent: float) -> FeatureFlags:
        """A copy with `name` set to `enabled` at `percent`, its change time stamped."""
        self.require(name)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        values = {k: dict(v) for k, v in self.values.items()}
        entry = values.setdefault(name, {})
        entry.update({"enabled": enabled, ROLLOUT: percent if enabled else 0, "_updatedAt": now})
        flags = dict(self.flags)
        flags[name] = self.flags[name].model_copy(update={"updated_at": now})
        return FeatureFlags(version="1", flags=flags, values=values)


def rollout_attribute() -> AttributeDefinition:
    return AttributeDefinition(
        description="share of users (by a stable hash of the user id) who get the flag",
        constraints=Constraints(type="number", minimum=0, maximum=100, required=True),
    )


def catalogue() -> FeatureFlags:
    """The flags the reference service knows, all off: the first version of a new store."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    flags = {
        "recommended-feed": FlagDefinition(
            name="Recommended feed",
            description="GET /api/pets?user_id=N lists the newest pets first for these users",
            created_at=now,
            updated_at=now,
            attributes={ROLLOUT: rollout_attribute()},
        ),
    }
    values = {
        name: {"enabled": False, ROLLOUT: 0, "_createdAt": now, "_updatedAt": now} for name in flags
    }
    return FeatureFlags(flags=flags, values=values)
