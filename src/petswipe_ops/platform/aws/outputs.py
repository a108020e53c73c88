"""The environment's AWS resources, read from its terraform root's outputs (never hand-copied).

`stack_terraform` is the Terraform of an AWS environment as the release and the AWS sandbox
both use it: the shared AWS root with `<env>.tfvars`, the state under the run folder, and,
against an emulated endpoint, the endpoint override and three parts moto cannot take: no AWS
Backup selection (moto has none), no Application Auto Scaling of the stable service (moto has
no ListTagsForResource for it, which the provider calls after every create and read and
retries for minutes on moto's error) and no Performance Insights (moto keeps no such setting,
so every plan would show it). Everything else, including the log groups and backup vaults,
is applied as on AWS.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.platform.aws.sandbox.state import SANDBOX_CREDENTIALS
from petswipe_ops.terraform import Terraform, environment_root

OUTPUTS_FILE = "stack-outputs.json"
# What moto cannot hold, switched off against an emulated endpoint (see the module docstring).
EMULATED_VARIABLES = {
    "backup_selection": "false",
    "autoscaling": "false",
    "performance_insights": "false",
}


class StackOutputs(BaseModel):
    """What the adapters need from `terraform output` of terraform/environments/aws."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    region: str
    dr_region: str
    cluster: str
    listener_arn: str
    stable_target_group_arn: str
    canary_target_group_arn: str
    stable_service: str
    canary_service: str
    db_instance: str
    backup_vault: str
    dr_backup_vault_arn: str
    secrets_prefix: str
    load_balancer_arn_suffix: str
    load_balancer_dns_name: str | None = None

    def target_group(self, role: str) -> str:
        """The target group that serves `role` (stable, or candidate = the canary track)."""
        return self.stable_target_group_arn if role == "stable" else self.canary_target_group_arn

    def service(self, role: str) -> str:
        return self.stable_service if role == "stable" else self.canary_service

    def alb_dimensions(self, role: str | None = None) -> list[dict[str, str]]:
        """CloudWatch's ALB dimensions: the load balancer, or one role's target group on it."""
        balancer = {"Name": "LoadBalancer", "Value": self.load_balancer_arn_suffix}
        if role is None:
            return [balancer]
        group = {"Name": "TargetGroup", "Value": target_group_suffix(self.target_group(role))}
        return [group, balancer]


def target_group_suffix(arn: str) -> str:
    """The CloudWatch TargetGroup dimension: `targetgroup/<name>/<id>` of the ARN."""
    return arn.split(":", 5)[-1]


def terraform_dir(environment: str) -> Path:
    return run_dir(environment) / "terraform"


def stack_terraform(config: EnvironmentConfig, endpoint_url: str | None) -> Terraform:
    where = environment_root(project_root(), config.environment)
    variables = {"aws_endpoint": endpoint_url, **EMULATED_VARIABLES} if endpoint_url else {}
    terraform = Terraform(
        where.root,
        terraform_dir(config.environment),
        timeout=900,
        var_files=where.var_files,
        variables=variables,
    )
    if endpoint_url and not os.environ.get("AWS_ACCESS_KEY_ID"):
        # moto's dummy credentials, so the provider never looks for a real account's.
        terraform.env.update(
            AWS_ACCESS_KEY_ID=SANDBOX_CREDENTIALS["aws_access_key_id"],
            AWS_SECRET_ACCESS_KEY=SANDBOX_CREDENTIALS["aws_secret_access_key"],
            AWS_EC2_METADATA_DISABLED="true",
        )
    return terraform


def save_outputs(environment: str, outputs: dict) -> Path:
    """Keep the outputs of the last apply beside the state, so reading them needs no terraform."""
    path = terraform_dir(environment) / OUTPUTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(outputs, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def load_outputs(config: EnvironmentConfig, terraform: Terraform | None = None) -> StackOutputs:
    """The outputs saved by the last apply, else `terraform output` of the environment's state."""
    path = terraform_dir(config.environment) / OUTPUTS_FILE
    if path.is_file():
        raw = json.loads(path.read_text())
    elif terraform is not None and terraform.state_file.is_file():
        terraform.init()
        raw = terraform.outputs()
    else:
        raise ConfigError(
            f"environment '{config.environment}' has no applied terraform state at "
            f"{terraform_dir(config.environment)}; apply it first (make tf-plan tf-apply "
            f"ENV={config.environment}, or make aws-sandbox-up for the AWS sandbox)."
        )
    try:
        return StackOutputs.model_validate(raw)
    except ValidationError as exc:
        missing = ", ".join(str(e["loc"][0]) for e in exc.errors())
        raise ConfigError(
            f"the terraform outputs of '{config.environment}' lack {missing}; apply the "
            "current terraform/environments/aws root again."
        ) from exc
