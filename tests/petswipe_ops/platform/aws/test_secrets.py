"""Secrets Manager values stay out of logs, reprs and status output."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

pytestmark = pytest.mark.integration

PLANTED = "planted-jwt-secret-91c2e4"


def test_a_planted_secret_reaches_no_log_line_or_status(stack, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    platform = stack.platform()
    platform.secrets.put("JWT_SECRET", SecretStr(PLANTED))
    platform.secrets.put("JWT_SECRET", SecretStr(PLANTED + "-next"), stage="AWSPENDING")

    value = platform.secrets.get("JWT_SECRET")
    pending = platform.secrets.get("JWT_SECRET", "AWSPENDING")
    assert value.get_secret_value() == PLANTED
    assert pending.get_secret_value() == PLANTED + "-next"
    assert PLANTED not in f"{value} {value!r} {pending!r}"
    stages = platform.secrets.stages("JWT_SECRET")
    assert sorted(s for v in stages.values() for s in v) == ["AWSCURRENT", "AWSPENDING"]

    status = platform.status().model_dump_json()
    assert caplog.records, "DEBUG logging was on while the secret was read"
    assert PLANTED not in caplog.text and PLANTED not in status
