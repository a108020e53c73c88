"""prefect.yaml and deployments/<env>.yaml must agree on how releases queue.

Prefect reads a deployment's `concurrency_limit` only from prefect.yaml, while the flow
reads `release.collision_strategy` from the environment file; this check keeps the two
in step (`make ui` runs it before `prefect deploy --all`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from petswipe_ops.config import available_environments, load_environment
from petswipe_ops.errors import ConfigError

RELEASE_ENTRYPOINT = "flows/release.py:release"


def release_deployments(prefect_yaml: Path) -> dict[str, dict[str, Any]]:
    """The release deployments of prefect.yaml, by the environment their request names."""
    try:
        data = yaml.safe_load(prefect_yaml.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{prefect_yaml} cannot be read as YAML: {exc}.") from exc
    found = {}
    for deployment in (data or {}).get("deployments") or []:
        if deployment.get("entrypoint") != RELEASE_ENTRYPOINT:
            continue
        request = (deployment.get("parameters") or {}).get("request") or {}
        found[request.get("environment", "local")] = deployment
    return found


def disagreements(root: Path) -> list[str]:
    """Each place where prefect.yaml and the environment files disagree, as a sentence."""
    deployments = release_deployments(root / "prefect.yaml")
    problems = []
    for environment in available_environments(root):
        deployment = deployments.get(environment)
        if deployment is None:
            problems.append(f"prefect.yaml has no release deployment for '{environment}'")
            continue
        name = deployment.get("name")
        expected = load_environment(environment, root).release.collision_strategy
        limit = deployment.get("concurrency_limit") or {}
        if limit.get("limit") != 1:
            problems.append(f"release/{name} must have concurrency_limit.limit 1")
        strategy = str(limit.get("collision_strategy", "ENQUEUE")).upper()
        if strategy != expected.prefect_name:
            problems.append(
                f"release/{name} has collision_strategy {strategy} but "
                f"deployments/{environment}.yaml says {expected.value} "
                f"(write {expected.prefect_name} in prefect.yaml)"
            )
    return problems


def check(root: Path) -> None:
    """Raise one ConfigError naming every disagreement, if there is any."""
    problems = disagreements(root)
    if problems:
        raise ConfigError("; ".join(problems) + ".")
