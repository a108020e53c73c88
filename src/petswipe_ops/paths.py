"""Where the project's files are and where run state goes."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout holding deployments/, policies/, terraform/ ... (PETSWIPE_ROOT overrides)."""
    override = os.environ.get("PETSWIPE_ROOT")
    return Path(override).resolve() if override else Path(__file__).resolve().parents[2]


def migrations_dir() -> Path:
    """The alembic environment every database of the service is migrated with."""
    return project_root() / "migrations"


def run_dir(environment: str) -> Path:
    """All state of one environment's local run: sockets, pids, logs, database, records."""
    base = os.environ.get("PETSWIPE_RUN_DIR")
    root = Path(base).resolve() if base else project_root() / ".sandbox"
    return root / environment
