"""Offline plans of an environment's terraform root, for checks that read the plan JSON.

The AWS roots keep their state in S3 and their inputs come from the platform stack, so a
check cannot plan them in place. The root's whole terraform tree is copied to a work
folder, a local backend and credential-free provider settings are added as override
files, and the platform inputs are filled with the environment's own account and region.
`-refresh=false` and no data source that calls AWS make the plan touch no network: the
provider comes from the filesystem mirror when the machine has one.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import ExternalCommandError, OpsError
from petswipe_ops.proc import run
from petswipe_ops.terraform import environment_root, find_terraform, mirror_config_file

OVERRIDE_FILE = "zz_offline_override.tf"
VARS_FILE = "zz_offline.auto.tfvars.json"
PLAN_TIMEOUT_S = 300.0
DR_ALIAS = re.compile(r'alias\s*=\s*"dr"')

PROVIDER_OVERRIDE = """
provider "aws" {{
  {alias}region                      = "{region}"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}}
"""


class PlannedRoot(BaseModel):
    """One root's plan: where it was made and its `terraform show -json`."""

    environment: str
    root: str
    plan_json: dict[str, Any]


def platform_inputs(config: EnvironmentConfig) -> dict[str, Any]:
    """Stand-in outputs of the platform stack, in the environment's own account and region."""
    account = config.aws.account_id if config.aws else "000000000000"
    region = config.aws.region if config.aws else "us-east-1"
    name = f"petswipe-{config.environment}"
    arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
    return {
        "vpc_id": "vpc-0123456789abcdef0",
        "load_balancer_arn": arn.format(
            "elasticloadbalancing", f"loadbalancer/app/{name}/0123456789abcdef"
        ),
        "certificate_arn": arn.format("acm", "certificate/00000000-0000-0000-0000-000000000000"),
        "cluster_arn": arn.format("ecs", f"cluster/{name}-cluster"),
        "private_subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        "database_subnet_ids": ["subnet-0ccccccccccccccc3", "subnet-0ddddddddddddddd4"],
        "service_security_group_ids": ["sg-0aaaaaaaaaaaaaaa1"],
        "database_security_group_ids": ["sg-0bbbbbbbbbbbbbbb2"],
        "execution_role_arn": f"arn:aws:iam::{account}:role/{name}-execution",
        "task_role_arn": f"arn:aws:iam::{account}:role/{name}-task",
        "backup_role_arn": f"arn:aws:iam::{account}:role/{name}-backup",
        "database_url_secret_arn": arn.format("secretsmanager", f"secret:{name}/database-url"),
    }


def root_variables(root: Path) -> set[str]:
    """Names of the variables the root declares (read from its .tf files)."""
    names: set[str] = set()
    for path in root.glob("*.tf"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith("variable "):
                names.add(stripped.split('"')[1])
    return names


def plan_root(
    root: Path,
    config: EnvironmentConfig,
    work_dir: Path,
    *,
    release_version: str = "1.1.0",
    stable_version: str = "1.0.0",
    state_file: Path | None = None,
    var_files: Sequence[Path] = (),
) -> PlannedRoot:
    """Plan `root` offline in a copy under `work_dir` and return its plan JSON.

    `root` is `<tree>/environments/<name>`; the whole `<tree>` is copied so its relative
    module sources resolve. A copy whose sources did not change reuses its last plan. With
    `state_file` (a local state of the root), the plan starts from a copy of it, so its
    prior state is what is deployed and a cost diff compares with it.
    """
    if not root.is_dir():
        raise OpsError(f"terraform root {root} does not exist; pass an existing folder.")
    tree = root.parent.parent
    current = state_file if state_file and state_file.is_file() else None
    digest = _tree_digest(tree, config, current)
    copy = work_dir / "tree"
    planned = work_dir / "plan.json"
    marker = work_dir / "digest"
    if marker.is_file() and marker.read_text() == digest and planned.is_file():
        return PlannedRoot(environment=config.environment, root=str(root), plan_json=_load(planned))
    if copy.exists():
        shutil.rmtree(copy)
    work_dir.mkdir(parents=True, exist_ok=True)
    # The lock file comes along: the offline plan installs the providers it pins.
    shutil.copytree(tree, copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    target = copy / root.relative_to(tree)
    _write_overrides(target, config)
    env = {
        "TF_DATA_DIR": str(work_dir / ".terraform"),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }
    rc = mirror_config_file(work_dir, target)
    if rc is not None:
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    state = work_dir / "tfstate"
    state.unlink(missing_ok=True)
    if current is not None:
        shutil.copyfile(current, state)  # a copy: the plan never writes the real state
    binary = find_terraform()
    plan_file = work_dir / "plan.tfplan"
    variables = {
        "release_version": release_version,
        "stable_version": stable_version,
        "platform": platform_inputs(config),
        "availability_zones": offline_zones(config),
    }
    declared = root_variables(target)
    (target / VARS_FILE).write_text(
        json.dumps({k: v for k, v in variables.items() if k in declared}, indent=2)
    )
    steps = [
        ["init", "-input=false", "-no-color", f"-backend-config=path={state}"],
        [
            "plan",
            "-refresh=false",
            "-input=false",
            "-no-color",
            *(
                f"-var-file={copy / Path(v).resolve().relative_to(tree.resolve())}"
                for v in var_files
            ),
            f"-out={plan_file}",
        ],
    ]
    for args in steps:
        result = run([binary, *args], timeout=PLAN_TIMEOUT_S, cwd=target, env=env, check=False)
        if result.returncode != 0:
            raise ExternalCommandError(
                f"terraform {args[0]} of {root} failed: {_first_error(result.stderr)}; "
                "fix the configuration and run the infra tests again."
            )
    shown = run(
        [binary, "show", "-json", "-no-color", str(plan_file)],
        timeout=PLAN_TIMEOUT_S,
        cwd=target,
        env=env,
    )
    planned.write_text(shown.stdout)
    (work_dir / "digest").write_text(digest)
    return PlannedRoot(environment=config.environment, root=str(root), plan_json=_load(planned))


def _write_overrides(target: Path, config: EnvironmentConfig) -> None:
    """A local backend and offline provider settings, as terraform override files."""
    uses_aws = any('provider "aws"' in p.read_text() for p in target.glob("*.tf"))
    text = 'terraform {\n  backend "local" {}\n}\n'
    if uses_aws and config.aws:
        text += PROVIDER_OVERRIDE.format(alias="", region=config.aws.region)
        aliased = any(DR_ALIAS.search(p.read_text()) for p in target.glob("*.tf"))
        if aliased:
            text += PROVIDER_OVERRIDE.format(alias='alias = "dr"\n  ', region=config.aws.dr_region)
    (target / OVERRIDE_FILE).write_text(text)


def _tree_digest(tree: Path, config: EnvironmentConfig, state: Path | None) -> str:
    digest = hashlib.sha256(config.model_dump_json().encode())
    if state is not None:
        digest.update(state.read_bytes())
    for path in sorted(tree.rglob("*")):
        if path.is_file() and ".terraform" not in path.parts and "tfstate" not in path.name:
            digest.update(str(path.relative_to(tree)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _first_error(output: str) -> str:
    lines = [line.strip(" │╷╵") for line in output.splitlines()]
    errors = [line.removeprefix("Error: ") for line in lines if line.startswith("Error: ")]
    return (errors[0] if errors else next((x for x in lines if x), "no output")).rstrip(".")


def plan_environment_root(
    config: EnvironmentConfig, project: Path, work_dir: Path, **options
) -> PlannedRoot:
    """Plan the environment's own root, or the shared AWS root with its tfvars."""
    where = environment_root(project, config.environment)
    return plan_root(where.root, config, work_dir, var_files=where.var_files, **options)


def offline_zones(config: EnvironmentConfig) -> list[str] | None:
    """Two zones named after the region, so an offline plan need not ask the region."""
    return [f"{config.aws.region}a", f"{config.aws.region}b"] if config.aws else None
