"""What a release runs besides traffic, on an AWS environment.

The local tools plan `terraform/environments/<env>`; an AWS environment is the shared AWS
root with its `<env>.tfvars`, pointed at the platform's endpoint (AWS itself, or the AWS
sandbox's moto server), so plan and apply here go through `stack_terraform`. The apply
saves the root's outputs, which the adapters read their ARNs from. Before the migration the
release takes an RDS snapshot of the instance, always: it is KMS-encrypted by RDS, so it
needs none of the backup key the local file backups are encrypted with.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from petswipe_ops import pipeline, policy
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.migrations import MigrationStep
from petswipe_ops.paths import project_root
from petswipe_ops.platform.aws.outputs import save_outputs
from petswipe_ops.platform.seams import Platform
from petswipe_ops.terraform import summarize_plan

if TYPE_CHECKING:
    from petswipe_ops.platform.aws.platform import AwsPlatform

SNAPSHOT_TIER = "pre-migration"


class AwsReleaseTools:
    """ReleaseTools of one AWS environment, bound to its platform (endpoint and resources)."""

    snapshots_before_migration = True

    def __init__(self, platform: AwsPlatform) -> None:
        self.platform = platform

    def infra_tests(self, config: EnvironmentConfig) -> dict[str, Any]:
        """terraform fmt/validate of the AWS root, the rego policies' own tests, and the infra
        tests on the environment's offline plan."""
        from petswipe_ops.infra_tests import require_infra_tests

        tf = self.platform.terraform()
        tf.check_format()
        tf.init()
        tf.validate()
        tests = policy.run_policy_tests(project_root() / "policies")
        failed = [t for t in tests.results if not t.passed]
        if failed:
            names = ", ".join(f"{t.package}.{t.name}" for t in failed)
            raise pipeline.ReleaseFailed(
                f"{len(failed)} policy tests failed: {names}; fix the policies."
            )
        on_plan = require_infra_tests(config, project_root())
        return {
            "terraform": f"fmt and validate passed; {on_plan['infra_tests']}",
            "policy_tests": len(tests.results),
            **on_plan,
        }

    def plan(
        self, config: EnvironmentConfig, version: str, stable: str, plan_file: Any
    ) -> pipeline.PlannedChange:
        tf = self.platform.terraform()
        tf.init()
        tf.plan(
            {
                "environment": config.environment,
                "release_version": version,
                "stable_version": stable,
                "candidate_weight": "0",
            },
            Path(plan_file),
        )
        return pipeline.PlannedChange(
            plan_file=str(plan_file), summary=summarize_plan(tf.show_json(Path(plan_file)))
        )

    def apply(self, config: EnvironmentConfig, plan_file: Any) -> dict[str, Any]:
        """Apply the saved plan (and only it); keep its outputs for the adapters."""
        tf = self.platform.terraform()
        tf.apply(Path(plan_file))
        outputs = tf.outputs()
        save_outputs(config.environment, outputs)
        return outputs

    def check_policies(self, config: EnvironmentConfig, version: str) -> policy.PolicyReport:
        return pipeline.check_policies(config, version)

    def backup(self, config: EnvironmentConfig, key: SecretStr | None) -> dict[str, Any]:
        """An RDS snapshot of the instance, tagged and waited for; the release records its id."""
        snapshot = self.platform.database.snapshot(SNAPSHOT_TIER, "before the release migrates")
        return {
            "backup_id": snapshot.identifier,
            "tier": SNAPSHOT_TIER,
            "snapshot_arn": snapshot.arn,
            "encrypted": snapshot.encrypted,
        }

    def migrate(
        self, platform: Platform, on_step: Callable[[MigrationStep], None]
    ) -> list[MigrationStep]:
        return pipeline.migrate(platform, on_step)
