"""The local Database seam: PostgreSQL by pg_dump / pg_restore, SQLite by its backup API."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, make_url, select, table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from petswipe_ops.errors import ConfigError, OpsError
from petswipe_ops.migrations import masked_url
from petswipe_ops.platform.local import postgres

BOOKKEEPING = {"alembic_version"}


class LocalDatabase:
    """SQLite in the run folder, or a PostgreSQL database (the sandbox's own or one named)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def kind(self) -> str:
        backend = make_url(self.url).get_backend_name()
        if backend not in {"postgresql", "sqlite"}:
            raise ConfigError(
                f"backups support PostgreSQL and SQLite, not {backend} ({masked_url(self.url)})."
            )
        return backend

    def _sqlite_path(self) -> Path:
        return Path(make_url(self.url).database or "")

    def backup(self, target: Path) -> None:
        if self.kind == "postgresql":
            postgres.dump(self.url, target)
            return
        source = self._sqlite_path()
        if not source.is_file():
            raise OpsError(f"there is no database at {source} to back up; run `make sandbox-up`.")
        with (
            closing(sqlite3.connect(source, timeout=30)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)

    @contextmanager
    def restore(self, source: Path) -> Iterator[str]:
        if self.kind == "postgresql":
            with postgres.scratch_database(self.url) as url:
                postgres.restore(url, source)
                yield url
            return
        with tempfile.TemporaryDirectory(prefix="petswipe-restore-") as folder:
            target = Path(folder) / "restored.db"
            with (
                closing(sqlite3.connect(source)) as src,
                closing(sqlite3.connect(target)) as dst,
            ):
                try:
                    src.backup(dst)
                except sqlite3.DatabaseError as exc:
                    raise OpsError(f"the backup is not a usable SQLite database ({exc}).") from None
            yield f"sqlite:///{target}"

    def tables(self) -> dict[str, int]:
        return row_counts(self.url)


def row_counts(url: str) -> dict[str, int]:
    """Rows per table of the database at `url` (alembic's bookkeeping left out)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        names = sorted(set(inspect(engine).get_table_names()) - BOOKKEEPING)
        with engine.connect() as conn:
            return {
                name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
                for name in names
            }
    except SQLAlchemyError as exc:
        raise OpsError(
            f"cannot read the tables of {masked_url(url)} ({type(exc).__name__}); "
            "check that the database is up."
        ) from None
    finally:
        engine.dispose()
