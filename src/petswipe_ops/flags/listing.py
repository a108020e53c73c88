"""`ff-list`: the flags of the newest version as a markdown table."""

from __future__ import annotations

from petswipe_ops.flags.store import FlagVersion


def render_flags(version: FlagVersion) -> str:
    document = version.document
    lines = [
        "| flag | state | rollout % | last change |",
        "| --- | --- | --- | --- |",
    ]
    for name in sorted(document.flags):
        value = document.values.get(name, {})
        changed = value.get("_updatedAt") or document.flags[name].updated_at or "—"
        state = "on" if document.enabled(name) else "off"
        lines.append(f"| {name} | {state} | {document.percentage(name):g} | {changed} |")
    lines += ["", f"version {version.number}: {version.description}"]
    return "\n".join(lines)
