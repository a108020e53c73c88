"""The layering of DESIGN.md, checked: the library never imports Prefect, and the flows
and tasks never reach a platform's internals (boto3, subprocess, HAProxy) directly."""

import ast
from pathlib import Path

import pytest

from petswipe_ops.paths import project_root

ROOT = project_root()


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("src/petswipe_ops"), ids=lambda p: p.name)
def test_library_does_not_import_prefect(path):
    assert not {m for m in imported_modules(path) if m.split(".")[0] == "prefect"}


@pytest.mark.parametrize("path", python_files("flows") + python_files("tasks"), ids=str)
def test_flows_and_tasks_stay_behind_the_seams(path):
    forbidden = {"boto3", "subprocess", "socket", "petswipe_ops.platform.local"}
    used = {m for m in imported_modules(path) if any(m.startswith(f) for f in forbidden)}
    assert not used, f"{path} reaches past the platform seams: {used}"
