"""Alembic migrations applied one revision at a time, each step timed and recorded.

The runner keeps its own ``migration_history`` table (outside alembic's revisions) so the
release record can show what ran, how long it took, what failed, and whether an applied
script was edited afterwards.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    make_url,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from petswipe_ops.errors import ConfigError, MigrationChecksumError, OpsError

HISTORY_TABLE = "migration_history"

Direction = Literal["upgrade", "downgrade"]


class MigrationError(OpsError):
    """A migration step failed; the database is left as it was before the run."""

    def __init__(self, step: MigrationStep, reverted: int = 0) -> None:
        self.step = step
        undone = (
            f"; the {reverted} revision(s) this run applied before it were reverted, so the "
            "schema is as it was"
            if reverted
            else ""
        )
        super().__init__(
            f"Migration {step.revision} ({step.script}) failed to {step.direction} and was "
            f"rolled back: {step.error}{undone}; fix the script or the database and run it again."
        )


class MigrationStep(BaseModel):
    """One revision applied or reverted, as recorded in the history table."""

    revision: str
    direction: Direction
    script: str
    checksum: str
    started_at: datetime
    execution_ms: float
    success: bool
    error: str | None = None


class MigrationStatus(BaseModel):
    """Where the database stands relative to the scripts on disk."""

    current: str | None
    head: str
    pending: list[str]
    applied: list[str]
    history: list[MigrationStep]


_metadata = MetaData()
_history = Table(
    HISTORY_TABLE,
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("revision", String(64), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("script", String(255), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("execution_ms", Float, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("error", Text, nullable=True),
)


def masked_url(database_url: str) -> str:
    """The URL with its password replaced, safe for messages and logs."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _first_line(exc: BaseException) -> str:
    """The database's own message, without SQLAlchemy's SQL and parameter dump."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(source).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(source).__name__


def _engine(database_url: str) -> Engine:
    """An engine whose transactions also cover DDL, so a failed step rolls back fully.

    pysqlite does not BEGIN before DDL by itself; the SQLAlchemy-documented recipe below
    makes SQLite behave like PostgreSQL here.
    """
    try:
        engine = create_engine(database_url, poolclass=NullPool)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"The database URL {masked_url(database_url)} is not usable ({exc}); "
            "pass a SQLAlchemy URL such as sqlite:///petswipe.db or postgresql+psycopg://..."
        ) from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_implicit_tx(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _explicit_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def _connect(database_url: str) -> Iterator[Engine]:
    """An engine that is disposed afterwards; an unreachable database is one sentence."""
    engine = _engine(database_url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        raise OpsError(
            f"Cannot connect to the database at {masked_url(database_url)} "
            f"({_first_line(exc)}); check the URL and that the server is running."
        ) from None
    try:
        yield engine
    finally:
        engine.dispose()


def _scripts(migrations_dir: Path) -> ScriptDirectory:
    """The revision scripts, refused before any database is touched when they do not form
    one line of history (a broken `down_revision`, or two heads after a merge of branches)."""
    if not (migrations_dir / "env.py").is_file():
        raise ConfigError(
            f"{migrations_dir} has no env.py; point migrations_dir at the alembic "
            "environment folder (the one holding env.py and versions/)."
        )
    scripts = ScriptDirectory(str(migrations_dir))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # alembic warns, then raises KeyError, on a gap
            heads = scripts.get_heads()
    except KeyError as exc:
        problem = f"a down_revision names {exc.args[0]!r}, which no script has"
    except (CommandError, RevisionError) as exc:
        problem = str(exc).rstrip(".")
    else:
        problem = None
    if problem is not None:
        raise ConfigError(
            f"The revision scripts in {migrations_dir / 'versions'} are inconsistent "
            f"({problem}); fix that script's down_revision."
        )
    if len(heads) > 1:
        raise ConfigError(
            f"{migrations_dir / 'versions'} has {len(heads)} heads ({', '.join(sorted(heads))}); "
            "merge them into one with `alembic merge heads` before migrating."
        )
    return scripts


def _config(migrations_dir: Path, database_url: str, connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def _checksum(script: Script) -> str:
    return hashlib.sha256(Path(script.path).read_bytes()).hexdigest()


def _current(engine: Engine, scripts: ScriptDirectory) -> str | None:
    """The database's revision, which must be one of the scripts: any other means the
    database was migrated from other scripts, and nothing here can upgrade or revert it."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        return None
    try:
        known = scripts.get_revision(current) is not None
    except (CommandError, RevisionError):
        known = False
    if not known:
        raise ConfigError(
            f"The database at {engine.url.render_as_string(hide_password=True)} "
            f"is at revision {current!r}, which is not in {scripts.versions}; restore that "
            "revision's script (or check you are pointing at the right database)."
        )
    return current


def _read_history(engine: Engine) -> list[MigrationStep]:
    if not inspect(engine).has_table(HISTORY_TABLE):
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(_history).order_by(_history.c.id)).mappings().all()
    steps = []
    for row in rows:
        started = row["started_at"]
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        steps.append(MigrationStep.model_validate({**row, "started_at": started}))
    return steps


def _record(engine: Engine, step: MigrationStep) -> None:
    _metadata.create_all(engine, tables=[_history], checkfirst=True)
    with engine.begin() as conn:
        conn.execute(_history.insert().values(**step.model_dump()))


def _chain(scripts: ScriptDirectory, upper: str | None, lower: str | None) -> list[Script]:
    """Revisions above `lower` up to and including `upper`, oldest first."""
    if upper is None:
        return []
    return list(reversed(list(scripts.iterate_revisions(upper, lower or "base"))))


def status(database_url: str, migrations_dir: Path) -> MigrationStatus:
    """Current and head revisions, what is pending and applied, and the recorded history."""
    scripts = _scripts(migrations_dir)
    head = scripts.get_current_head()
    if head is None:
        raise ConfigError(f"{migrations_dir / 'versions'} holds no revisions; add one first.")
    with _connect(database_url) as engine:
        current = _current(engine, scripts)
        history = _read_history(engine)
    return MigrationStatus(
        current=current,
        head=head,
        pending=[s.revision for s in _chain(scripts, head, current)],
        applied=[s.revision for s in _chain(scripts, current, None)],
        history=history,
    )


def _verify(engine: Engine, scripts: ScriptDirectory) -> None:
    applied: dict[str, MigrationStep] = {}
    for step in _read_history(engine):
        if not step.success:
            continue
        if step.direction == "upgrade":
            applied[step.revision] = step
        else:
            applied.pop(step.revision, None)
    for revision, step in applied.items():
        script = scripts.get_revision(revision)
        if script is None:
            raise MigrationChecksumError(
                f"Applied migration {revision} ({step.script}) is missing from "
                f"{scripts.versions}; restore the file, an applied migration must stay in place."
            )
        if _checksum(script) != step.checksum:
            raise MigrationChecksumError(
                f"Applied migration {revision} ({Path(script.path).name}) was edited after it "
                "ran; an applied migration must not be edited, restore it and add a new "
                "revision instead."
            )


def verify_checksums(database_url: str, migrations_dir: Path) -> None:
    """Refuse to continue when a script that already ran has changed on disk."""
    scripts = _scripts(migrations_dir)
    with _connect(database_url) as engine:
        _verify(engine, scripts)


def _run_step(
    engine: Engine,
    migrations_dir: Path,
    database_url: str,
    script: Script,
    direction: Direction,
    target: str,
) -> MigrationStep:
    """Apply one revision in its own transaction, then record the outcome in another."""
    started_at = datetime.now(UTC)
    start = time.perf_counter()
    error: BaseException | None = None
    with engine.connect() as conn:
        cfg = _config(migrations_dir, database_url, conn)
        try:
            if direction == "upgrade":
                command.upgrade(cfg, target)
            else:
                command.downgrade(cfg, target)
        except Exception as exc:
            error = exc
    step = MigrationStep(
        revision=script.revision,
        direction=direction,
        script=Path(script.path).name,
        checksum=_checksum(script),
        started_at=started_at,
        execution_ms=(time.perf_counter() - start) * 1000.0,
        success=error is None,
        error=None if error is None else _first_line(error),
    )
    _record(engine, step)
    if error is not None:
        raise MigrationError(step) from None
    return step


def upgrade(
    database_url: str,
    migrations_dir: Path,
    target: str = "head",
    on_step: Callable[[MigrationStep], None] | None = None,
) -> list[MigrationStep]:
    """Apply pending revisions up to `target` one at a time; nothing runs on a bad checksum."""
    scripts = _scripts(migrations_dir)
    with _connect(database_url) as engine:
        _verify(engine, scripts)
        current = _current(engine, scripts)
        try:
            resolved = scripts.get_revision(target)
        except (CommandError, RevisionError):
            resolved = None
        if resolved is None:
            known = ", ".join(s.revision for s in _chain(scripts, scripts.get_current_head(), None))
            raise ConfigError(
                f"Migration target {target!r} is not a known revision; use 'head' or one of "
                f"{known}."
            )
        if resolved.revision in {s.revision for s in _chain(scripts, current, None)}:
            return []
        done: list[MigrationStep] = []
        try:
            for script in _chain(scripts, resolved.revision, current):
                step = _run_step(
                    engine, migrations_dir, database_url, script, "upgrade", script.revision
                )
                done.append(step)
                if on_step is not None:
                    on_step(step)
        except MigrationError as exc:
            if not done:
                raise
            _revert(engine, migrations_dir, database_url, scripts, len(done), on_step)
            raise MigrationError(exc.step, reverted=len(done)) from None
        return done


def _revert(
    engine: Engine,
    migrations_dir: Path,
    database_url: str,
    scripts: ScriptDirectory,
    steps: int,
    on_step: Callable[[MigrationStep], None] | None,
) -> list[MigrationStep]:
    """Downgrade the newest `steps` applied revisions, newest first, recording each."""
    applied = _chain(scripts, _current(engine, scripts), None)
    done = []
    for script in reversed(applied[-steps:]):
        step = _run_step(engine, migrations_dir, database_url, script, "downgrade", "-1")
        done.append(step)
        if on_step is not None:
            on_step(step)
    return done


def downgrade(
    database_url: str,
    migrations_dir: Path,
    steps: int = 1,
    on_step: Callable[[MigrationStep], None] | None = None,
) -> list[MigrationStep]:
    """Revert the newest `steps` applied revisions, one at a time, newest first."""
    if steps < 1:
        raise ConfigError(f"steps must be at least 1, got {steps}; pass how many to revert.")
    scripts = _scripts(migrations_dir)
    with _connect(database_url) as engine:
        applied = _chain(scripts, _current(engine, scripts), None)
        if steps > len(applied):
            raise ConfigError(
                f"Cannot revert {steps} migrations: only {len(applied)} applied; "
                "pass a smaller steps value."
            )
        return _revert(engine, migrations_dir, database_url, scripts, steps, on_step)
