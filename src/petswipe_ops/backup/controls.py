"""Backup controls in the manner of AWS Backup Audit Manager, evaluated against the vault.

Each control reads the vault (and, for the last two, one restore of a sampled backup) and
returns a row: its name, a verdict, and the evidence a person needs to act on a failure.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, SecretStr

from petswipe_ops.backup import crypto
from petswipe_ops.backup.vault import BackupManifest, Vaults, open_backup, sha256_file
from petswipe_ops.config import Backup, BackupTier
from petswipe_ops.errors import OpsError
from petswipe_ops.platform.local.database import row_counts
from petswipe_ops.platform.seams import Database

RPO = "recovery point within RPO"
TIERS = "every tier present with its retention"
CHECKSUMS = "checksums intact"
ENCRYPTED = "encrypted at rest"
DR_COPY = "copied to the DR vault"
RESTORE = "sampled restore matches its manifest"
RESTORE_TIME = "restore time within target"


class ControlResult(BaseModel):
    control: str
    passed: bool
    evidence: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


class SampledRestore(BaseModel):
    backup_id: str
    seconds: float
    row_counts: dict[str, int]


class VerificationFailed(OpsError):
    """At least one control failed."""

    exit_code = 1


Restorer = Callable[[BackupManifest], SampledRestore]


def _intact(vaults: Vaults, manifest: BackupManifest, dr: bool = False) -> str | None:
    """Why the stored file does not match its manifest, or None when it does."""
    path = (vaults.dr if dr else vaults.primary).data_path(manifest.id)
    if not path.is_file():
        return f"{manifest.id}: file missing"
    if path.stat().st_size != manifest.size:
        return f"{manifest.id}: size {path.stat().st_size} != {manifest.size}"
    if sha256_file(path) != manifest.sha256:
        return f"{manifest.id}: sha256 mismatch"
    return None


def _age_hours(manifest: BackupManifest, now: datetime) -> float:
    return (now - manifest.created_at).total_seconds() / 3600


def check_rpo(vaults: Vaults, settings: Backup, now: datetime) -> ControlResult:
    usable = [m for m in vaults.primary.list() if _intact(vaults, m) is None]
    if not usable:
        return ControlResult(control=RPO, passed=False, evidence="no intact recovery point")
    newest = usable[-1]
    age = _age_hours(newest, now)
    return ControlResult(
        control=RPO,
        passed=age <= settings.rpo_hours,
        evidence=f"newest intact {newest.id} is {age:.1f} h old (RPO {settings.rpo_hours:g} h)",
    )


def check_tiers(vaults: Vaults, settings: Backup, now: datetime) -> ControlResult:
    live = [m for m in vaults.primary.list() if m.expires_at > now]
    problems, found = [], []
    for tier in BackupTier:
        want = settings.retention_days[tier]
        in_tier = [m for m in live if m.tier is tier]
        if not in_tier:
            problems.append(f"{tier.value}: none")
            continue
        wrong = [m.id for m in in_tier if m.retention_days != want]
        if wrong:
            problems.append(f"{tier.value}: retention is not {want} d for {', '.join(wrong)}")
        found.append(f"{tier.value} {len(in_tier)} ({want} d)")
    evidence = "; ".join(problems) if problems else ", ".join(found)
    return ControlResult(control=TIERS, passed=not problems, evidence=evidence)


def check_checksums(vaults: Vaults) -> ControlResult:
    manifests = vaults.primary.list()
    problems = [p for m in manifests if (p := _intact(vaults, m)) is not None]
    evidence = "; ".join(problems) if problems else f"{len(manifests)} backups match sha256"
    return ControlResult(
        control=CHECKSUMS, passed=bool(manifests) and not problems, evidence=evidence
    )


def check_encrypted(vaults: Vaults) -> ControlResult:
    problems = []
    manifests = vaults.primary.list()
    for m in manifests:
        path = vaults.primary.data_path(m.id)
        head = path.open("rb").read(16) if path.is_file() else b""
        if m.encryption != crypto.SCHEME or (head and not crypto.looks_encrypted(head)):
            problems.append(f"{m.id}: not {crypto.SCHEME}-encrypted")
    evidence = "; ".join(problems) if problems else f"{len(manifests)} backups {crypto.SCHEME}"
    return ControlResult(
        control=ENCRYPTED, passed=bool(manifests) and not problems, evidence=evidence
    )


def check_dr_copies(vaults: Vaults) -> ControlResult:
    manifests = vaults.primary.list()
    problems = []
    for m in manifests:
        copy = vaults.dr.get(m.id)
        if copy is None or copy.sha256 != m.sha256:
            problems.append(f"{m.id}: no DR copy")
        elif (reason := _intact(vaults, m, dr=True)) is not None:
            problems.append(f"DR {reason}")
    evidence = "; ".join(problems) if problems else f"{len(manifests)} backups copied"
    return ControlResult(
        control=DR_COPY, passed=bool(manifests) and not problems, evidence=evidence
    )


def sample(
    manifests: list[BackupManifest], size: int, seed: int | None = None
) -> list[BackupManifest]:
    """The newest backup plus `size - 1` others at random: the newest is the one a restore
    would use first, the others catch a problem that crept into older backups."""
    if not manifests:
        return []
    rest = manifests[:-1]
    picked = random.Random(seed).sample(rest, min(len(rest), size - 1))
    return [manifests[-1], *picked]


def check_restores(
    vaults: Vaults, settings: Backup, restore: Restorer, seed: int | None = None
) -> list[ControlResult]:
    intact = [m for m in vaults.primary.list() if _intact(vaults, m) is None]
    chosen = sample(intact, settings.verification_sample_size, seed)
    if not chosen:
        none = "no intact backup to restore"
        return [
            ControlResult(control=RESTORE, passed=False, evidence=none),
            ControlResult(control=RESTORE_TIME, passed=False, evidence=none),
        ]
    problems, timings = [], []
    for manifest in chosen:
        try:
            restored = restore(manifest)
        except OpsError as exc:
            problems.append(f"{manifest.id}: {exc}")
            continue
        timings.append((manifest.id, restored.seconds))
        if restored.row_counts != manifest.row_counts:
            problems.append(f"{manifest.id}: rows {restored.row_counts} != {manifest.row_counts}")
    restore_row = ControlResult(
        control=RESTORE,
        passed=not problems,
        evidence="; ".join(problems) or f"{', '.join(i for i, _ in timings)} restored, rows match",
    )
    slowest = max((s for _, s in timings), default=None)
    target = settings.restore_time_target_seconds
    time_row = ControlResult(
        control=RESTORE_TIME,
        passed=slowest is not None and slowest <= target,
        evidence=(
            "no restore finished"
            if slowest is None
            else f"slowest restore {slowest:.2f} s (target {target:g} s)"
        ),
    )
    return [restore_row, time_row]


def evaluate(
    vaults: Vaults,
    settings: Backup,
    restore: Restorer,
    now: datetime | None = None,
    seed: int | None = None,
) -> list[ControlResult]:
    """Every control, one row each, in the order a person reads them."""
    now = now or datetime.now(UTC)
    return [
        check_rpo(vaults, settings, now),
        check_tiers(vaults, settings, now),
        check_checksums(vaults),
        check_encrypted(vaults),
        check_dr_copies(vaults),
        *check_restores(vaults, settings, restore, seed),
    ]


def restorer(database: Database, vaults: Vaults, key: SecretStr) -> Restorer:
    """Restore into a fresh database (dropped afterwards) and count its rows."""

    def restore(manifest: BackupManifest) -> SampledRestore:
        with tempfile.TemporaryDirectory(prefix="petswipe-verify-") as folder:
            plain = open_backup(vaults, manifest, key, Path(folder) / "plain")
            started = time.perf_counter()
            with database.restore(plain) as url:
                counts = row_counts(url)
            return SampledRestore(
                backup_id=manifest.id, seconds=time.perf_counter() - started, row_counts=counts
            )

    return restore


def render_table(results: list[ControlResult]) -> str:
    """Markdown table, one row per control: the artifact and the command's output."""
    lines = ["| control | verdict | evidence |", "| --- | --- | --- |"]
    lines += [f"| {r.control} | {r.verdict} | {r.evidence.replace('|', '/')} |" for r in results]
    return "\n".join(lines)


def failed(results: list[ControlResult]) -> list[ControlResult]:
    return [r for r in results if not r.passed]


def failure_message(results: list[ControlResult]) -> str | None:
    """One line naming each failed control with its evidence; None when all passed."""
    bad = failed(results)
    if not bad:
        return None
    return "backup controls failed: " + "; ".join(f"{r.control} ({r.evidence})" for r in bad)
