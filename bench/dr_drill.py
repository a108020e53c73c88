"""Benchmark: the full DR drill against a raw pg_restore of the same backup.

A throwaway PostgreSQL cluster (Debian binaries) gets a PetSwipe database of about a million
rows (50 000 users, 50 000 pets, 850 000 swipes, 50 000 matches on top of the migrations'
sample data). One encrypted backup goes into a temporary vault. Then ROUNDS rounds of
each, in alternating order (the machine's load drifts):

- raw: `pg_restore` of the plain dump into a fresh database, nothing else (the baseline);
- drill: `run_drill`, the code `make dr-test` runs: decrypt, fresh scratch database,
  pg_restore, the great-expectations suite (row counts against the source, unique keys,
  resolvable references, NOT NULL columns, newest row), drop.

The drill's time is its measured RTO (restore + verify); great_expectations is imported once
before the first round, as a scheduled drill's worker has it loaded. Medians are compared.

Run: uv run --frozen python bench/dr_drill.py   (about two minutes on 2 cores)
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

from petswipe_ops import demo_data, migrations
from petswipe_ops.backup import drill, vault
from petswipe_ops.config import Backup
from petswipe_ops.paths import project_root
from petswipe_ops.platform.local import postgres
from petswipe_ops.platform.local.database import LocalDatabase
from petswipe_ops.ports import free_port

ROUNDS = 5
SIZE = demo_data.DemoSize(users=50_000, pets=50_000, swipes=850_000, matches=50_000)
PASSWORD = "bench-only-password"


def raw_restore(url: str, dump: Path) -> float:
    with postgres.scratch_database(url, prefix="bench_raw") as scratch:
        started = time.perf_counter()
        postgres.restore(scratch, dump)
        return time.perf_counter() - started


def main() -> None:
    cluster = postgres.PostgresCluster(
        Path(tempfile.mkdtemp(prefix="petswipe-bench-")), free_port()
    )
    work = Path(tempfile.mkdtemp(prefix="petswipe-bench-work-"))
    try:
        cluster.init(PASSWORD)
        cluster.start()
        url = cluster.url("petswipe", PASSWORD)
        postgres.create_database(url, "petswipe")
        migrations.upgrade(url, project_root() / "migrations")
        started = time.perf_counter()
        demo_data.seed(url, SIZE)
        database = LocalDatabase(url)
        rows = sum(database.tables().values())
        print(f"seeded {rows:,} rows in {time.perf_counter() - started:.1f} s")

        settings = Backup()
        key = SecretStr(Fernet.generate_key().decode())
        vaults = vault.Vaults(work / "vault")
        manifest = vault.take_backup(database, vaults, settings, key, "bench")
        vault.copy_to_dr(vaults, manifest)
        dump = vault.open_backup(vaults, manifest, key, work / "plain.dump")
        print(f"backup {manifest.size / 1e6:.1f} MB encrypted, taken in {manifest.seconds:.1f} s")
        drill.load_gx()

        raws, drills, verifies = [], [], []
        for round_ in range(1, ROUNDS + 1):
            if round_ % 2:
                raws.append(raw_restore(url, dump))
            report = drill.run_drill(database, vaults, settings, key, "bench")
            if not round_ % 2:
                raws.append(raw_restore(url, dump))
            if not report.passed:
                raise SystemExit(drill.failure_message(report))
            drills.append(report.rto_seconds)
            verifies.append(report.verify_seconds)
            print(
                f"round {round_}: raw pg_restore {raws[-1]:.2f} s | "
                f"drill {report.rto_seconds:.2f} s "
                f"(restore {report.restore_seconds:.2f} s + verify {report.verify_seconds:.2f} s, "
                f"{len(report.expectations)} expectations)"
            )
        raw, full = statistics.median(raws), statistics.median(drills)
        print(f"\nmedian raw pg_restore: {raw:.2f} s")
        print(f"median full drill:     {full:.2f} s (verify {statistics.median(verifies):.2f} s)")
        print(f"drill / raw restore:   {full / raw:.2f}x (goal <= 1.3x)")
        print(
            json.dumps(
                {
                    "rows": rows,
                    "raw_restore_seconds": round(raw, 3),
                    "drill_seconds": round(full, 3),
                    "verify_seconds": round(statistics.median(verifies), 3),
                    "drill_over_raw_restore": round(full / raw, 3),
                }
            )
        )
    finally:
        cluster.remove()
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        work.rmdir()


if __name__ == "__main__":
    main()
