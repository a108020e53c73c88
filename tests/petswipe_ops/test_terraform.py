"""The terraform wrapper: plan summaries on fixtures, then the real binary offline."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from petswipe_ops.errors import ExternalCommandError, MissingBinaryError, OpsError
from petswipe_ops.terraform import (
    PLUGIN_DIR_VAR,
    Action,
    Terraform,
    environment_root,
    find_terraform,
    plugin_mirror,
    summarize_plan,
)

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
LOCAL_ROOT = TERRAFORM / "environments" / "local"

PLAN_JSON: dict[str, Any] = {
    "format_version": "0.2",
    "resource_changes": [
        {"address": "aws_lb_target_group.canary", "change": {"actions": ["create"]}},
        {"address": "aws_ecs_service.stable", "change": {"actions": ["update"]}},
        {"address": "aws_security_group.old", "change": {"actions": ["delete"]}},
        {"address": "aws_db_instance.main", "change": {"actions": ["delete", "create"]}},
        {"address": "aws_ecs_task_definition.api", "change": {"actions": ["create", "delete"]}},
        {"address": "aws_lb.main", "change": {"actions": ["no-op"]}},
    ],
    "output_changes": {
        "candidate_weight": {
            "actions": ["update"],
            "before": 0,
            "after": 10,
            "after_unknown": False,
            "before_sensitive": False,
            "after_sensitive": False,
        },
        "db_password": {
            "actions": ["update"],
            "before": "old-secret",
            "after": "new-secret",
            "after_unknown": False,
            "before_sensitive": True,
            "after_sensitive": True,
        },
        "listener_arn": {
            "actions": ["create"],
            "before": None,
            "after": None,
            "after_unknown": True,
            "before_sensitive": False,
            "after_sensitive": False,
        },
    },
}


def test_summarize_plan_counts_resource_changes_by_action() -> None:
    summary = summarize_plan(PLAN_JSON)
    assert summary.resources == {
        Action.CREATE: ["aws_lb_target_group.canary"],
        Action.UPDATE: ["aws_ecs_service.stable"],
        Action.DELETE: ["aws_security_group.old"],
        Action.REPLACE: ["aws_db_instance.main", "aws_ecs_task_definition.api"],
        Action.NO_OP: ["aws_lb.main"],
    }
    assert summary.counts[Action.REPLACE] == 2
    assert summary.has_changes


def test_summarize_plan_masks_sensitive_outputs() -> None:
    outputs = {o.name: o for o in summarize_plan(PLAN_JSON).outputs}
    assert (outputs["candidate_weight"].before, outputs["candidate_weight"].after) == (0, 10)
    assert (outputs["db_password"].before, outputs["db_password"].after) == (
        "(sensitive)",
        "(sensitive)",
    )
    assert outputs["listener_arn"].after == "(known after apply)"
    markdown = summarize_plan(PLAN_JSON).as_markdown()
    assert "secret" not in markdown
    assert "| replace | 2 | `aws_db_instance.main`, `aws_ecs_task_definition.api` |" in markdown


def test_summarize_plan_without_changes() -> None:
    plan = {"resource_changes": [{"address": "a.b", "change": {"actions": ["no-op"]}}]}
    assert not summarize_plan(plan).has_changes


def test_missing_binary_override_is_one_clear_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PETSWIPE_TERRAFORM_BIN", "/nonexistent")
    with pytest.raises(MissingBinaryError) as caught:
        find_terraform()
    message = str(caught.value)
    assert message.startswith(
        "terraform was not found at /nonexistent (set by PETSWIPE_TERRAFORM_BIN)"
    )
    assert message.count(".") == 1 and message.endswith("from HashiCorp.")


def test_discovery_prefers_a_recent_terraform_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PETSWIPE_TERRAFORM_BIN", raising=False)
    recent = tmp_path / "recent"
    recent.mkdir()
    (recent / "terraform").write_text("#!/bin/sh\necho 'Terraform v1.11.4'\n")
    (recent / "terraform").chmod(0o755)
    venv_bin = Path(sys.executable).parent
    monkeypatch.setenv("PATH", f"{venv_bin}:{recent}:/usr/bin:/bin")
    assert find_terraform() == str(recent / "terraform"), "`uv run` puts the venv's bin first"


def test_discovery_falls_back_to_the_bundled_binary_for_an_old_one_on_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PETSWIPE_TERRAFORM_BIN", raising=False)
    (tmp_path / "terraform").write_text("#!/bin/sh\necho 'Terraform v1.5.7'\n")
    (tmp_path / "terraform").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    found = find_terraform()
    assert ".venv" in found or "site-packages" in found


def test_a_configured_plugin_mirror_goes_into_the_cli_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io").mkdir(parents=True)
    monkeypatch.setenv(PLUGIN_DIR_VAR, str(mirror))
    assert plugin_mirror() == mirror
    tf = Terraform(LOCAL_ROOT, tmp_path / "work", binary="terraform")
    config = Path(tf.env["TF_CLI_CONFIG_FILE"]).read_text()
    assert f'path    = "{mirror}"' in config and "direct" in config


def test_a_missing_plugin_mirror_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PLUGIN_DIR_VAR, "/nonexistent/mirror")
    with pytest.raises(OpsError, match=r"^the terraform plugin mirror /nonexistent/mirror"):
        plugin_mirror()


def test_a_users_own_cli_config_decides_where_providers_come_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(PLUGIN_DIR_VAR, raising=False)
    own = tmp_path / "own.rc"
    own.write_text("")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(own))
    assert plugin_mirror() is None
    assert "TF_CLI_CONFIG_FILE" not in Terraform(LOCAL_ROOT, tmp_path / "w", binary="tf").env


def test_cloud_environments_share_the_aws_root_with_their_tfvars() -> None:
    staging = environment_root(ROOT, "staging")
    assert staging.root == TERRAFORM / "environments" / "aws"
    assert staging.var_files == [TERRAFORM / "environments" / "aws" / "staging.tfvars"]
    assert environment_root(ROOT, "local").root == LOCAL_ROOT
    with pytest.raises(OpsError, match="environment 'qa' has no terraform root"):
        environment_root(ROOT, "qa")


def test_the_aws_root_pins_the_provider_with_a_committed_lock() -> None:
    lock = (TERRAFORM / "environments" / "aws" / ".terraform.lock.hcl").read_text()
    assert 'version     = "5.100.0"' in lock and 'constraints = "~> 5.100"' in lock


@pytest.fixture(scope="module")
def terraform_binary() -> str:
    return find_terraform()


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    return Path(shutil.copytree(LOCAL_ROOT, tmp_path / "root"))


@pytest.mark.integration
@pytest.mark.parametrize(
    "root",
    sorted(p for p in TERRAFORM.glob("*/*") if p.is_dir()),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_root_and_module_is_formatted(
    root: Path, terraform_binary: str, tmp_path: Path
) -> None:
    assert Terraform(root, tmp_path, binary=terraform_binary).fmt_check() == []


@pytest.mark.integration
def test_badly_formatted_file_is_reported(
    local_root: Path, tmp_path: Path, terraform_binary: str
) -> None:
    (local_root / "extra.tf").write_text("locals {\nx=1\n  longer_name = 2\n}\n")
    tf = Terraform(local_root, tmp_path / "work", binary=terraform_binary)
    assert tf.fmt_check() == ["extra.tf"]
    with pytest.raises(OpsError, match=r"1 terraform files .* are not formatted \(extra\.tf\)"):
        tf.check_format()


@pytest.mark.integration
def test_local_root_plans_and_applies_offline(
    local_root: Path, tmp_path: Path, terraform_binary: str
) -> None:
    work = tmp_path / "work"
    tf = Terraform(local_root, work, binary=terraform_binary, timeout=120)
    tf.init()
    tf.validate()
    variables = {"release_version": "1.2.0", "stable_version": "1.1.0", "candidate_weight": "10"}
    plan_file = tf.plan(variables, work / "plan.tfplan")
    summary = summarize_plan(tf.show_json(plan_file))
    assert summary.has_changes
    after = {o.name: o.after for o in summary.outputs}
    assert after == {
        "candidate_weight": 10,
        "environment": "local",
        "release_version": "1.2.0",
        "stable_version": "1.1.0",
        "stable_weight": 90,
    }
    tf.apply(plan_file)
    assert tf.outputs() == after
    assert tf.state_file.is_file()
    assert sorted(p.name for p in local_root.iterdir()) == ["main.tf", "outputs.tf", "variables.tf"]


@pytest.mark.integration
def test_out_of_range_weight_is_refused(
    local_root: Path, tmp_path: Path, terraform_binary: str
) -> None:
    tf = Terraform(local_root, tmp_path / "work", binary=terraform_binary, timeout=120)
    tf.init()
    variables = {"release_version": "1.2.0", "stable_version": "1.1.0", "candidate_weight": "150"}
    with pytest.raises(
        ExternalCommandError, match=r"terraform plan failed .*Invalid value for variable"
    ):
        tf.plan(variables, tmp_path / "plan.tfplan")


@pytest.mark.integration
def test_invalid_configuration_names_the_first_error(
    local_root: Path, tmp_path: Path, terraform_binary: str
) -> None:
    (local_root / "broken.tf").write_text('output "x" {\n  value = var.missing\n}\n')
    tf = Terraform(local_root, tmp_path / "work", binary=terraform_binary, timeout=120)
    tf.init()
    with pytest.raises(
        ExternalCommandError, match=r"Reference to undeclared input variable \(broken\.tf:2\)"
    ):
        tf.validate()


SENSITIVE_TF = """variable "db_password" {
  type      = string
  sensitive = true
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}
"""


@pytest.mark.integration
def test_a_sensitive_output_is_masked_and_its_variable_reaches_terraform(
    local_root: Path, tmp_path: Path, terraform_binary: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The value comes from TF_VAR_db_password (terraform's own prefix reaches it) and is
    masked in the plan summary and in the outputs the release records."""
    monkeypatch.setenv("TF_VAR_db_password", "planted-tf-secret")
    (local_root / "sensitive.tf").write_text(SENSITIVE_TF)
    work = tmp_path / "work"
    tf = Terraform(local_root, work, binary=terraform_binary, timeout=120)
    tf.init()
    variables = {"release_version": "1.2.0", "stable_version": "1.1.0"}
    plan_file = tf.plan(variables, work / "plan.tfplan")
    summary = summarize_plan(tf.show_json(plan_file))
    assert {o.name: o.after for o in summary.outputs}["db_password"] == "(sensitive)"
    tf.apply(plan_file)
    outputs = tf.outputs()
    assert outputs["db_password"] == "(sensitive)"
    assert outputs["release_version"] == "1.2.0"
    assert "planted-tf-secret" not in summary.as_markdown() + repr(outputs)
