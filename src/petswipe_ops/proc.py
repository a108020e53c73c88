"""Running external programs: argument lists only, always with a timeout, and an
allow-listed environment (`child_env`), so no secret of ours reaches a child by accident."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from petswipe_ops.child_env import child_env
from petswipe_ops.errors import ExternalCommandError, MissingBinaryError

PROGRAM_PREFIXES: dict[str, tuple[str, ...]] = {
    "prefect": ("PREFECT_",),
    "terraform": ("TF_", "AWS_"),
    "pg_dump": ("PG",),
    "pg_restore": ("PG",),
    "psql": ("PG",),
}
"""What each program reads from our environment beyond the base allow-list: its own
settings and credentials, and nothing of the other programs' (or of ours)."""


def find_binary(name: str, *, env_var: str, install_hint: str, extra: Sequence[Path] = ()) -> str:
    """Locate `name`: the `env_var` override first, then PATH, then `extra` candidates.

    An override that points nowhere is an error rather than a silent fallback, so a
    user (or a test) can say exactly which binary to use.
    """
    override = os.environ.get(env_var)
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise MissingBinaryError(
            f"{name} was not found at {override} (set by {env_var}); {install_hint}."
        )
    found = shutil.which(name)
    if found:
        return found
    for candidate in extra:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise MissingBinaryError(f"{name} is not installed; {install_hint}.")


def run(
    args: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    prefixes: Sequence[str] = (),
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `args` and capture its output; a timeout or (with `check`) a failure raises.

    The child gets `child_env`: the base allow-list, our variables that start with one of
    `prefixes` or of the program's own (PROGRAM_PREFIXES), then `env`.
    """
    merged = child_env(env, prefixes=(*prefixes, *program_prefixes(args)))
    try:
        result = subprocess.run(
            list(args),
            cwd=cwd,
            env=merged,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExternalCommandError(
            f"{Path(args[0]).name} {' '.join(args[1:2])} did not finish within {timeout:.0f} s."
        ) from exc
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        last = detail[-1] if detail else "no output"
        raise ExternalCommandError(
            f"{Path(args[0]).name} {' '.join(args[1:2])} failed with exit code "
            f"{result.returncode}: {last}"
        )
    return result


def program_prefixes(args: Sequence[str]) -> tuple[str, ...]:
    """PROGRAM_PREFIXES of the program `args` runs."""
    return PROGRAM_PREFIXES.get(Path(args[0]).name, ()) if args else ()
