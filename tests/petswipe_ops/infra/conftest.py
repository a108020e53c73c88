"""One offline plan per shipped AWS root for the whole session (plans take seconds each)."""

from __future__ import annotations

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.paths import project_root
from petswipe_ops.plan_workspace import PlannedRoot, plan_environment_root

ROOTS = ("production",)


@pytest.fixture(scope="session")
def shipped_plans(tmp_path_factory) -> dict[str, PlannedRoot]:
    base = project_root()
    work = tmp_path_factory.mktemp("plans")
    return {
        name: plan_environment_root(load_environment(name, base), base, work / name)
        for name in ROOTS
    }
