"""Rotate secrets: createSecret, setSecret, testSecret, finishSecret for each one asked."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed, State

from petswipe_ops.errors import OpsError
from petswipe_ops.secrets.model import SecretKind
from petswipe_ops.secrets.report import render_rotations
from tasks import rotate_secrets as steps


@flow(name="rotate-secrets", flow_run_name="rotate-secrets-{environment}")
def rotate_secrets(
    environment: str = "local", secrets: list[SecretKind] | None = None
) -> list[str] | State:
    """Rotate `secrets` (default: all) of `environment`; a failure notifies and fails the run
    after the other secrets had their turn, each failed one still on its AWSCURRENT."""
    try:
        config = steps.load(environment)
    except OpsError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
    results, failures = [], []
    for kind in secrets or list(SecretKind):
        try:
            results.append(steps.rotate(config, kind))
        except OpsError as exc:
            failures.append(str(exc))
            steps.send_notification(config, f"Secret rotation in {environment}: {exc}")
    create_markdown_artifact(
        render_rotations(environment, results, failures),
        key=f"rotate-secrets-{environment}",
        description=f"{len(results)} rotated, {len(failures)} failed",
    )
    if failures:
        return Failed(message=" ".join(failures))
    return [r.rotation_id for r in results]
