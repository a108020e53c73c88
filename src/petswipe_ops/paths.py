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


def cache_dir() -> Path:
    """Results that depend only on content they are keyed by, shared by every checkout and
    environment: PETSWIPE_CACHE_DIR, else $XDG_CACHE_HOME/petswipe-ops, else ~/.cache."""
    override = os.environ.get("PETSWIPE_CACHE_DIR")
    if override:
        return Path(override).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "petswipe-ops"
