"""The release report: the record rendered as markdown for a Prefect artifact or a terminal."""

from __future__ import annotations

from typing import Any

from petswipe_ops.record import Outcome, ReleaseRecord
from petswipe_ops.terraform import PlanSummary

ICONS = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "running": "⏳"}
OUTCOME_TITLES = {
    Outcome.PROMOTED: "promoted",
    Outcome.ROLLED_BACK: "rolled back",
    Outcome.REFUSED: "refused",
    Outcome.RUNNING: "in progress",
}


def render_markdown(record: ReleaseRecord) -> str:
    lines = [
        f"# Release {record.version} to {record.environment}: {OUTCOME_TITLES[record.outcome]}",
        "",
        f"- release id: `{record.release_id}`",
        f"- stable before: {record.stable_version or 'unknown'}; injected fault: {record.fault}",
        f"- started {record.started_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    if record.reason:
        lines.append(f"- outcome: **{record.reason}**")
    if record.final_weights:
        weights = record.final_weights
        lines.append(
            f"- router after release: stable {weights['stable']} % / "
            f"candidate {weights['candidate']} %"
        )
    lines += ["", "## Stages", "", "| stage | status | seconds | summary |", "|---|---|---|---|"]
    for stage in record.stages:
        seconds = f"{stage.seconds:.1f}" if stage.seconds is not None else "—"
        summary = stage.summary.replace("|", "\\|").replace("\n", " ")
        status = f"{ICONS.get(stage.status, '')} {stage.status}"
        lines.append(f"| {stage.name} | {status} | {seconds} | {summary} |")
    plan = record.stage("plan")
    if plan is not None and plan.details:
        lines += [
            "",
            "## Terraform plan",
            "",
            PlanSummary.model_validate(plan.details).as_markdown(),
        ]
    gates = [d for d in record.decisions if d.stage == "canary"]
    if gates:
        lines += [
            "",
            "## Canary gate decisions",
            "",
            "| step | verdict | candidate requests | errors | error rate | p95 ms | p99 ms "
            "| stable requests | stable p95 ms | reason |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for decision in gates:
            cand = decision.evidence.get("candidate", {})
            stable = decision.evidence.get("stable", {})
            lines.append(
                f"| {decision.evidence.get('weight', '?')} % | {decision.verdict} "
                f"| {cand.get('requests', '—')} | {cand.get('errors', '—')} "
                f"| {_pct(cand.get('error_rate'))} | {_num(cand.get('p95_ms'))} "
                f"| {_num(cand.get('p99_ms'))} | {stable.get('requests', '—')} "
                f"| {_num(stable.get('p95_ms'))} | {decision.reason} |"
            )
        tests = [row for d in gates for row in _sequential_rows(d.evidence)]
        if tests:
            lines += [
                "",
                "### Sequential tests behind each verdict",
                "",
                "A rollback needs the mixture likelihood ratio's log (log e) to reach "
                "log(1/alpha); a promotion needs the log likelihood ratio of the smallest effect "
                "against the SLO (log LR) to fall to log(beta). See docs/gates.md.",
                "",
                "| step | test | bad / requests | p0 → p1 | log e (rollback at) "
                "| log LR (promote at) | result |",
                "|---|---|---|---|---|---|---|",
                *tests,
            ]
    others = [d for d in record.decisions if d.stage != "canary"]
    if others:
        lines += ["", "## Other decisions", ""]
        lines += [f"- **{d.stage}**: {d.verdict}: {d.reason}" for d in others]
    return "\n".join(lines) + "\n"


def render_summary(record: ReleaseRecord) -> str:
    """One line for a terminal: what happened and why."""
    steps = [d for d in record.decisions if d.stage == "canary"]
    path = " → ".join(f"{d.evidence.get('weight')}% {d.verdict}" for d in steps) or "no canary"
    return (
        f"{record.version} → {record.environment}: {OUTCOME_TITLES[record.outcome].upper()} "
        f"({path}); {record.reason}"
    )


def _sequential_rows(evidence: dict[str, Any]) -> list[str]:
    """One table row per test of a sequential verdict: its statistic and boundaries."""
    if evidence.get("gate") != "sequential":
        return []
    step = f"{evidence.get('weight', '?')} %"
    tests = [("errors", evidence["error_rate"])]
    tests += [
        (f"{name} slower than {t['threshold_ms']:.0f} ms ({t['basis']})", t)
        for name, t in evidence.get("latency", {}).items()
        if "log_e" in t
    ]
    rows = []
    for label, t in tests:
        if t["rollback"]:
            result = "rollback"
        elif t["promote"]:
            result = "pass"
        else:
            result = f"{t['needed_requests']} more requests"
        if "versus_stable" in t:
            versus = t["versus_stable"]
            result += f"; vs stable log e {versus['log_e']:.2f} (at {versus['rollback_at']:.2f})"
        rows.append(
            f"| {step} | {label} | {t['bad']:g} / {t['n']} | {t['p0']:.2%} → {t['p1']:.2%} "
            f"| {t['log_e']:.2f} ({t['rollback_at']:.2f}) | {t['log_lr']:.2f} "
            f"({t['promote_at']:.2f}) | {result} |"
        )
    return rows


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"
