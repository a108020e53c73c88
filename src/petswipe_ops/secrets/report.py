"""A rotation run as markdown: what rotated, through which steps, what failed. No values."""

from __future__ import annotations

from petswipe_ops.secrets.rotation import RotationResult


def render_rotations(environment: str, results: list[RotationResult], failures: list[str]) -> str:
    lines = [
        f"# Secret rotation: {environment}",
        "",
        "| secret | new AWSCURRENT version | AWSPREVIOUS version | resumed | steps |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        steps = ", ".join(e.step.value for e in r.steps if e.status.value == "done")
        lines.append(
            f"| {r.name} | {r.current_version} | {r.previous_version or '—'} | "
            f"{'yes' if r.resumed else 'no'} | {steps} |"
        )
    if failures:
        lines += ["", "## Failed", "", *(f"- {f}" for f in failures)]
    return "\n".join(lines) + "\n"
