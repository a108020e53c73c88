"""prefect.yaml must give every environment a release deployment, and none of them a
deployment `concurrency_limit`.

Prefect frees a deployment's concurrency slot when its run pauses, revokes the slot's
lease, and then crashes the paused run when the engine next renews that lease (about four
minutes in). A release pauses for approval, often for longer, so one release per
environment is kept by the flow's global concurrency limit `release-<env>` instead, with
the collision strategy of `deployments/<env>.yaml`. `make ui` runs this check before
`prefect deploy --all`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from petswipe_ops.config import available_environments
from petswipe_ops.errors import ConfigError

RELEASE_ENTRYPOINT = "flows/release.py:release"
SLO_REPORT_ENTRYPOINT = "flows/slo_report.py:slo_report"
SLO_REPORT_CRON = "*/15 * * * *"
AWS_PREFECT_YAML = Path("deploy/aws/prefect.yaml")


def _deployments(prefect_yaml: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(prefect_yaml.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{prefect_yaml} cannot be read as YAML: {exc}.") from exc
    return (data or {}).get("deployments") or []


def deployment_names(prefect_yaml: Path) -> list[str]:
    """`<flow>/<deployment>` of each deployment, as `prefect deployment run` takes them."""
    return [
        f"{d['entrypoint'].rsplit(':', 1)[1].replace('_', '-')}/{d['name']}"
        for d in _deployments(prefect_yaml)
    ]


def release_deployments(prefect_yaml: Path) -> dict[str, dict[str, Any]]:
    """The release deployments of a prefect.yaml, by the environment their request names."""
    found = {}
    for deployment in _deployments(prefect_yaml):
        if deployment.get("entrypoint") != RELEASE_ENTRYPOINT:
            continue
        request = (deployment.get("parameters") or {}).get("request") or {}
        found[request.get("environment", "local")] = deployment
    return found


def slo_report_problems(root: Path) -> list[str]:
    """Every environment needs an slo-report deployment on the seed's 15-minute schedule."""
    found = []
    reports = {
        (d.get("parameters") or {}).get("environment", "local"): d
        for d in _deployments(root / "prefect.yaml")
        if d.get("entrypoint") == SLO_REPORT_ENTRYPOINT
    }
    for environment in available_environments(root):
        deployment = reports.get(environment)
        if deployment is None:
            found.append(f"prefect.yaml has no slo-report deployment for '{environment}'")
            continue
        crons = [s.get("cron") for s in deployment.get("schedules") or []]
        if SLO_REPORT_CRON not in crons:
            found.append(
                f"slo-report/{deployment.get('name')} in prefect.yaml runs on "
                f"{crons or 'no schedule'}, not every 15 minutes ('{SLO_REPORT_CRON}')"
            )
    return found


def problems(root: Path) -> list[str]:
    """Each thing wrong with the release deployments of prefect.yaml and of
    deploy/aws/prefect.yaml, as a sentence part."""
    local, aws = root / "prefect.yaml", root / AWS_PREFECT_YAML
    releases = release_deployments(local)
    found = [
        f"prefect.yaml has no release deployment for '{environment}'"
        for environment in available_environments(root)
        if environment not in releases
    ]
    for path in [local, aws] if aws.exists() else [local]:
        for environment, deployment in release_deployments(path).items():
            if "concurrency_limit" in deployment:
                found.append(
                    f"release/{deployment.get('name')} in {path.relative_to(root)} sets "
                    "concurrency_limit; remove it: Prefect frees that slot when the release "
                    "pauses for approval and then crashes the paused run, and the flow's "
                    f"global concurrency limit release-{environment} already keeps one release "
                    f"at a time (release.collision_strategy in deployments/{environment}.yaml)"
                )
    return found + slo_report_problems(root)


def check(root: Path) -> None:
    """Raise one ConfigError naming every problem, if there is any."""
    found = problems(root)
    if found:
        raise ConfigError("; ".join(found) + ".")
