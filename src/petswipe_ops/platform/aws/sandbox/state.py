"""What a running AWS sandbox records about itself, so any command can find and stop it."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from petswipe_ops.liveness import alive
from petswipe_ops.paths import run_dir

# moto's fixed account and dummy credentials: nothing here can reach a real account.
SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class SandboxState(BaseModel):
    environment: str
    moto_url: str
    moto_pid: int
    emulator_pid: int | None = None
    listener_url: str | None = None
    prometheus_url: str | None = None
    prometheus_pid: int | None = None


def state_dir(environment: str) -> Path:
    return run_dir(environment) / "aws-sandbox"


def state_file(environment: str) -> Path:
    return state_dir(environment) / "state.json"


def read_state(environment: str) -> SandboxState | None:
    """The recorded sandbox of `environment` whose moto server is still running, else None."""
    path = state_file(environment)
    if not path.is_file():
        return None
    state = SandboxState.model_validate_json(path.read_text())
    return state if alive(state.moto_pid) else None


def write_state(state: SandboxState) -> None:
    path = state_file(state.environment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.model_dump(), indent=2))
    tmp.replace(path)


def sandboxed(environment: str) -> bool:
    """Whether `environment` runs on its AWS sandbox, whose emulated tasks honour faults."""
    state = read_state(environment)
    return state is not None and alive(state.emulator_pid)
