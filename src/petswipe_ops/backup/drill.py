"""The DR drill: restore the latest backup into a scratch database, check it with a
great-expectations suite, time it (RTO), measure the data-loss window (RPO), drop it.

The database computes the facts (row counts, duplicate keys, nulls in NOT NULL columns,
orphaned foreign keys, newest row) in a few aggregate queries, so a million-row restore is
checked in well under a second; great-expectations judges those facts against the suite.
GX sees numbers only, never a connection string. It is imported lazily: it takes seconds.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from sqlalchemy import MetaData, Table, and_, case, create_engine, func, inspect, select
from sqlalchemy.pool import NullPool

from petswipe_ops.backup.vault import BackupManifest, Vaults, open_backup
from petswipe_ops.config import Backup
from petswipe_ops.errors import OpsError
from petswipe_ops.platform.local.database import BOOKKEEPING
from petswipe_ops.platform.seams import Database

NEWEST_ROW = "newest_row_age_hours"

# PetSwipe's data contract: these references must resolve even if a constraint was lost.
REFERENCES = (
    ("swipes", "user_id", "users", "id"),
    ("swipes", "pet_id", "pets", "id"),
    ("matches", "user_id", "users", "id"),
    ("matches", "pet_id", "pets", "id"),
)


class Check(BaseModel):
    """One expectation: a fact's name, what it means to a person, and its bounds."""

    fact: str
    name: str
    min_value: float | None = None
    max_value: float | None = None


class ExpectationOutcome(BaseModel):
    name: str
    expectation: str
    passed: bool
    observed: Any
    expected: str


class DrillReport(BaseModel):
    environment: str
    backup_id: str
    backup_created_at: datetime
    source: str
    restore_seconds: float
    verify_seconds: float
    rto_seconds: float
    rto_target_seconds: float
    rpo_seconds: float | None
    rpo_target_seconds: float
    scratch_dropped: bool
    expectations: list[ExpectationOutcome]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.passed]

    @property
    def passed(self) -> bool:
        return not self.failed


class DrillFailed(OpsError):
    """The restored data broke an expectation, or the drill took longer than the RTO."""

    exit_code = 1


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def measure(
    url: str, source_counts: dict[str, int], settings: Backup, now: datetime
) -> tuple[dict[str, float], list[Check], datetime | None]:
    """The facts of the restored database and the checks that judge them."""
    engine = create_engine(url, poolclass=NullPool)
    facts: dict[str, float] = {}
    checks: list[Check] = []
    newest: datetime | None = None
    tol = settings.row_count_tolerance
    try:
        inspector = inspect(engine)
        names = sorted(set(inspector.get_table_names()) - BOOKKEEPING)
        metadata = MetaData()
        tables = {n: Table(n, metadata, autoload_with=engine) for n in names}
        with engine.connect() as conn:
            for name, table in tables.items():
                pk = list(table.primary_key.columns)
                not_null = [c for c in table.columns if not c.nullable and c not in pk]
                columns = [func.count().label("rows")]
                if len(pk) == 1:
                    columns.append(func.count(pk[0].distinct()).label("distinct_keys"))
                columns += [
                    func.coalesce(func.sum(case((c.is_(None), 1), else_=0)), 0).label(
                        f"nulls_{c.name}"
                    )
                    for c in not_null
                ]
                if "created_at" in table.c:
                    columns.append(func.max(table.c.created_at).label("newest"))
                row = conn.execute(select(*columns)).mappings().one()
                rows = row["rows"]
                facts[f"{name}__rows"] = rows
                expected = source_counts.get(name, 0)
                checks.append(
                    Check(
                        fact=f"{name}__rows",
                        name=f"{name}: row count within {tol:.0%} of the source ({expected})",
                        min_value=math.floor(expected * (1 - tol)),
                        max_value=math.ceil(expected * (1 + tol)),
                    )
                )
                if len(pk) == 1:
                    facts[f"{name}__duplicate_keys"] = rows - row["distinct_keys"]
                    checks.append(
                        Check(
                            fact=f"{name}__duplicate_keys",
                            name=f"{name}: primary key {pk[0].name} unique",
                            min_value=0,
                            max_value=0,
                        )
                    )
                for column in not_null:
                    fact = f"{name}__{column.name}__nulls"
                    facts[fact] = row[f"nulls_{column.name}"]
                    checks.append(
                        Check(fact=fact, name=f"{name}.{column.name} not null", max_value=0)
                    )
                stamp = _as_utc(row.get("newest"))
                if stamp is not None and (newest is None or stamp > newest):
                    newest = stamp
            for child_name, column, parent_name, key in _references(tables):
                table, parent = tables[child_name], tables[parent_name]
                child, target = table.c[column], parent.c[key]
                orphans = conn.execute(
                    select(func.count())
                    .select_from(table.outerjoin(parent, child == target))
                    .where(and_(child.is_not(None), target.is_(None)))
                ).scalar_one()
                fact = f"{child_name}__{column}__orphans"
                facts[fact] = orphans
                checks.append(
                    Check(
                        fact=fact,
                        name=f"{child_name}.{column} references an existing {parent_name}.{key}",
                        max_value=0,
                    )
                )
    finally:
        engine.dispose()
    age = (now - newest).total_seconds() / 3600 if newest else math.inf
    facts[NEWEST_ROW] = age
    checks.append(
        Check(
            fact=NEWEST_ROW,
            name=f"newest row within the RPO ({settings.rpo_hours:g} h)",
            max_value=settings.rpo_hours,
        )
    )
    return facts, checks, newest


def _references(tables: dict[str, Table]) -> list[tuple[str, str, str, str]]:
    """Declared foreign keys of the restored schema plus the data contract's references."""
    found = {
        (name, fk.parent.name, fk.column.table.name, fk.column.name)
        for name, table in tables.items()
        for fk in table.foreign_keys
    }
    found |= {
        ref
        for ref in REFERENCES
        if ref[0] in tables
        and ref[2] in tables
        and ref[1] in tables[ref[0]].c
        and ref[3] in tables[ref[2]].c
    }
    return sorted(found)


def load_gx() -> Any:
    """great_expectations, quiet: no usage statistics, no progress bars."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def validate(facts: dict[str, float], checks: list[Check]) -> list[ExpectationOutcome]:
    """Run the checks as a GX 1.x expectation suite over the one-row facts frame."""
    import pandas as pd

    gx = load_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("restored")
        .add_dataframe_asset("drill-facts")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(gx.ExpectationSuite(name="dr-drill"))
    for check in checks:
        suite.add_expectation(
            gx.expectations.ExpectColumnMaxToBeBetween(
                column=check.fact,
                min_value=check.min_value,
                max_value=check.max_value,
                meta={"name": check.name},
            )
        )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name="dr-drill")
    )
    frame = pd.DataFrame([facts])
    result = definition.run(batch_parameters={"dataframe": frame})
    by_fact = {c.fact: c for c in checks}
    outcomes = []
    for item in result.results:
        check = by_fact[item.expectation_config.kwargs["column"]]
        observed = item.result.get("observed_value")
        outcomes.append(
            ExpectationOutcome(
                name=check.name,
                expectation=item.expectation_config.type,
                passed=bool(item.success),
                observed=observed.item() if hasattr(observed, "item") else observed,
                expected=_bounds(check),
            )
        )
    order = {c.name: i for i, c in enumerate(checks)}
    return sorted(outcomes, key=lambda o: order[o.name])


def _bounds(check: Check) -> str:
    if check.min_value == check.max_value:
        return f"= {check.max_value:g}"
    if check.min_value is None:
        return f"≤ {check.max_value:g}"
    return f"{check.min_value:g} … {check.max_value:g}"


def latest(vaults: Vaults, environment: str) -> BackupManifest:
    manifests = vaults.primary.list()
    if not manifests:
        raise OpsError(
            f"the vault of '{environment}' holds no backup; take one with "
            f"`make backup ENV={environment}`."
        )
    return manifests[-1]


def run_drill(
    database: Database,
    vaults: Vaults,
    settings: Backup,
    key: SecretStr,
    environment: str,
    now: datetime | None = None,
) -> DrillReport:
    """Restore the latest backup into a scratch database, verify it, drop it, report."""
    manifest = latest(vaults, environment)
    load_gx()
    source_counts = database.tables()
    with tempfile.TemporaryDirectory(prefix="petswipe-drill-") as folder:
        started = time.perf_counter()
        plain = open_backup(vaults, manifest, key, Path(folder) / "plain")
        with database.restore(plain) as url:
            restored = time.perf_counter()
            plain.unlink()
            checked_at = now or datetime.now(UTC)
            facts, checks, newest = measure(url, source_counts, settings, checked_at)
            outcomes = validate(facts, checks)
            verified = time.perf_counter()
    rto = verified - started
    target = settings.restore_time_target_seconds
    outcomes.append(
        ExpectationOutcome(
            name=f"restore and verify within the RTO target ({target:g} s)",
            expectation="rto_within_target",
            passed=rto <= settings.restore_time_target_seconds,
            observed=round(rto, 3),
            expected=f"≤ {settings.restore_time_target_seconds:g}",
        )
    )
    return DrillReport(
        environment=environment,
        backup_id=manifest.id,
        backup_created_at=manifest.created_at,
        source=manifest.source,
        restore_seconds=round(restored - started, 3),
        verify_seconds=round(verified - restored, 3),
        rto_seconds=round(rto, 3),
        rto_target_seconds=settings.restore_time_target_seconds,
        rpo_seconds=round((checked_at - newest).total_seconds(), 1) if newest else None,
        rpo_target_seconds=settings.rpo_hours * 3600,
        scratch_dropped=True,
        expectations=outcomes,
    )


def failure_message(report: DrillReport) -> str:
    names = "; ".join(
        f"{e.name} (observed {e.observed}, expected {e.expected})" for e in report.failed
    )
    return f"DR drill of {report.environment} on {report.backup_id} failed: {names}."


def render_markdown(report: DrillReport) -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    rpo = f"{report.rpo_seconds / 3600:.2f} h" if report.rpo_seconds is not None else "no data"
    lines = [
        f"# DR drill {report.environment}: {verdict}",
        "",
        f"Backup `{report.backup_id}` ({report.backup_created_at:%Y-%m-%d %H:%M:%S} UTC) of "
        f"{report.source}, restored into a scratch database that was then dropped.",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| RTO (restore + verify) | {report.rto_seconds:.2f} s "
        f"| ≤ {report.rto_target_seconds:g} s |",
        f"| restore | {report.restore_seconds:.2f} s | |",
        f"| verify | {report.verify_seconds:.2f} s | |",
        f"| RPO (age of the newest row) | {rpo} | ≤ {report.rpo_target_seconds / 3600:g} h |",
        "",
        "| expectation | verdict | observed | expected |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {e.name} | {'PASS' if e.passed else 'FAIL'} | {e.observed} | {e.expected} |"
        for e in report.expectations
    ]
    return "\n".join(lines)
