"""The release report: the record rendered as markdown for a Prefect artifact or a terminal."""

from __future__ import annotations

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


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"
