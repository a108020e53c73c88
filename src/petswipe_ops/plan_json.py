"""Reading `terraform show -json` output: planned resources and what their arguments refer to.

Attributes that refer to other resources are unknown until apply, so a check that needs
"which bucket does this versioning belong to" reads the reference from the plan's
configuration section instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

INDEX = re.compile(r"\[[^\]]*\]")


class PlannedResource(BaseModel):
    address: str
    module_address: str
    type: str
    name: str
    actions: list[str]
    after: dict[str, Any]
    references: dict[str, list[str]]

    @property
    def deleted(self) -> bool:
        return self.actions == ["delete"]

    def refers_to(self, other: PlannedResource, argument: str) -> bool:
        """Whether `argument` of this resource refers to `other` (same module, by name)."""
        if self.module_address != other.module_address:
            return False
        wanted = f"{other.type}.{other.name}"
        return any(ref == wanted or ref.startswith(wanted + ".") for ref in self.ref(argument))

    def ref(self, argument: str) -> list[str]:
        return self.references.get(argument, [])


def resources(plan: dict[str, Any], side: str = "after") -> list[PlannedResource]:
    """Every resource the plan creates, updates or keeps (deletions left out).

    With `side="before"`, the resources as they are now (in the prior state), with their
    current values in `after`: what a cost diff compares the plan with.
    """
    config = _config_references(plan.get("configuration", {}).get("root_module", {}), "")
    found = []
    for change in plan.get("resource_changes", []):
        if change.get("mode", "managed") != "managed":
            continue
        module = change.get("module_address", "")
        key = (INDEX.sub("", module), change["type"], change["name"])
        item = PlannedResource(
            address=change["address"],
            module_address=module,
            type=change["type"],
            name=change["name"],
            actions=change["change"]["actions"],
            after=change["change"].get(side) or {},
            references=config.get(key, {}),
        )
        exists = change["change"].get("before") is not None
        if (side == "after" and not item.deleted) or (side == "before" and exists):
            found.append(item)
    return found


def of_type(items: list[PlannedResource], *types: str) -> list[PlannedResource]:
    return [r for r in items if r.type in types]


def variable(plan: dict[str, Any], name: str, default: Any = None) -> Any:
    return plan.get("variables", {}).get(name, {}).get("value", default)


def _config_references(
    module: dict[str, Any], prefix: str
) -> dict[tuple[str, str, str], dict[str, list[str]]]:
    found: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    for resource in module.get("resources", []):
        if resource.get("mode", "managed") != "managed":
            continue
        refs = dict(_expression_references(resource.get("expressions", {})))
        found[(prefix, resource["type"], resource["name"])] = refs
    for name, call in module.get("module_calls", {}).items():
        child = f"{prefix}.module.{name}" if prefix else f"module.{name}"
        found.update(_config_references(call.get("module", {}), child))
    return found


def _expression_references(expressions: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    for argument, expression in expressions.items():
        if isinstance(expression, dict) and "references" in expression:
            yield argument, list(expression["references"])
