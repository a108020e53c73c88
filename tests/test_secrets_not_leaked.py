"""Secrets never reach a log line, record, artifact, report or process listing.

A distinct known value is planted in every secret source: the backup key, the API key users
send, the notification webhook, the sandbox PostgreSQL's password and a sensitive terraform
output. Then a real sandbox release runs through the flow (Prefect's test harness, HAProxy,
the reference service, k6, terraform, PostgreSQL), and a backup after it, while a sampler
takes `ps -eo args` listings and reads every process's environment. Everything the run
wrote is then searched for the planted values.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from petswipe_ops.platform.local.postgres import SandboxPostgres
from tests.conftest import REPO, Project, _stop_sandboxes

pytestmark = pytest.mark.integration

SENSITIVE_TF = """variable "db_password" {
  type      = string
  sensitive = true
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}
"""

NOT_SEARCHED = (".tfstate", ".tfstate.backup", ".tfplan", "plan.json", "secrets/store.json")
"""Terraform's own state and saved plans hold sensitive values by design (terraform keeps
them to plan the next change; `plan.json` is `terraform show -json` of such a plan, kept by
the infra tests), and the local secret store holds the rotated secrets; they
stay in the run folder, readable by its owner only."""


@dataclass
class Planted:
    backup_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    api_key: str = field(default_factory=lambda: f"planted-api-key-{uuid.uuid4().hex}")
    webhook: str = field(
        default_factory=lambda: f"https://hooks.example.invalid/planted-{uuid.uuid4().hex}"
    )
    db_password: str = field(default_factory=lambda: f"planted-pg-{uuid.uuid4().hex}")
    tf_output: str = field(default_factory=lambda: f"planted-tf-{uuid.uuid4().hex}")

    rotated: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        """Every planted value, and every value the rotation made (db, api-key, jwt stages)."""
        fixed = {k: v for k, v in vars(self).items() if k != "rotated"}
        return {**fixed, **self.rotated}


class Sampler(threading.Thread):
    """`ps -eo args` and every other process's environment, a few times a second."""

    def __init__(self, planted: Planted) -> None:
        super().__init__(daemon=True)
        self.planted = planted
        self.listings: list[str] = []
        self.environments: dict[tuple[int, str], set[str]] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.3):
            self.listings.append(
                subprocess.run(
                    ["ps", "-ww", "-eo", "args"], capture_output=True, text=True, timeout=10
                ).stdout
            )
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit() or int(entry.name) == os.getpid():
                    continue
                try:
                    environ = (entry / "environ").read_bytes().decode(errors="replace")
                    args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                found = {name for name, v in self.planted.values().items() if v in environ}
                if found:
                    self.environments.setdefault((int(entry.name), args[:160]), set()).update(found)

    def holding(self, *names: str) -> list[str]:
        """Processes whose environment held one of the planted values `names`."""
        return sorted(
            f"{args} ({', '.join(sorted(found & set(names)))})"
            for (_pid, args), found in self.environments.items()
            if found & set(names)
        )


@dataclass
class Evidence:
    planted: Planted
    project: Project
    sampler: Sampler
    texts: dict[str, str]
    record: object


class Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _everything(read) -> list:
    """Every item a paged Prefect client read returns."""
    items, offset = [], 0
    while page := read(limit=200, offset=offset):
        items += page
        offset += len(page)
    return items


def _server_texts() -> dict[str, str]:
    """Every log line, artifact and flow-run state message the Prefect server holds."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        logs = _everything(client.read_logs)
        artifacts = _everything(client.read_artifacts)
        runs = _everything(client.read_flow_runs)
    return {
        "prefect server logs": "\n".join(log.message for log in logs),
        "prefect artifacts": "\n".join(f"{a.key}: {a.data} {a.description}" for a in artifacts),
        "flow run states": "\n".join(
            f"{r.name}: {r.state.message if r.state else ''} {r.parameters}" for r in runs
        ),
    }


def _rotated_values(environment: str) -> dict[str, str]:
    """Each stage's value of each secret in the local store, after the rotation."""
    from petswipe_ops.secrets.environment import local_store_path
    from petswipe_ops.secrets.store import LocalSecretStore

    path = local_store_path(environment)
    store = LocalSecretStore(path)
    found = {}
    for name in json.loads(path.read_text())["secrets"]:
        for version, stages in store.stages(name).items():
            secret = store.value(name, version)
            if secret is None:
                continue
            value = secret.get_secret_value()
            with contextlib.suppress(ValueError, AttributeError):
                value = json.loads(value).get("password", value)  # db credentials
            if len(value) >= 8:
                found[f"{name} {'/'.join(stages) or 'old'}"] = value
    return found


def _run_folder_texts(run_root: Path) -> dict[str, str]:
    return {
        str(path): path.read_bytes().decode(errors="replace")
        for path in sorted(run_root.rglob("*"))
        if path.is_file() and not str(path).endswith(NOT_SEARCHED)
    }


@pytest.fixture(scope="module")
def evidence(prefect_harness, tmp_path_factory) -> Iterator[Evidence]:
    from flows.backup import backup
    from flows.release import release
    from flows.rotate_secrets import rotate_secrets
    from petswipe_ops import pipeline
    from petswipe_ops.release import ReleaseRequest

    planted = Planted()
    project = Project(tmp_path_factory.mktemp("secrets") / "root")
    (project.root / "terraform").unlink()
    shutil.copytree(REPO / "terraform", project.root / "terraform")
    (project.terraform_root / "sensitive.tf").write_text(SENSITIVE_TF)
    password_file = SandboxPostgres(project.run_root / "local", 0).password_file
    password_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    password_file.write_text(planted.db_password)
    password_file.chmod(0o600)

    variables = {
        **project.env(),
        "PETSWIPE_BACKUP_KEY": planted.backup_key,
        "PETSWIPE_API_KEY": planted.api_key,
        "PETSWIPE_NOTIFY_WEBHOOK": planted.webhook,
        "TF_VAR_db_password": planted.tf_output,
    }
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    collector = Collector()
    loggers = [logging.getLogger(), logging.getLogger("prefect")]
    for logger in loggers:
        logger.addHandler(collector)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    sampler = Sampler(planted)
    sampler.start()
    try:
        state = release(
            request=ReleaseRequest(environment="local", version="1.1.0", auto_approve=True),
            return_state=True,
        )
        backed_up = backup(environment="local", return_state=True)
        rotated = rotate_secrets(environment="local", return_state=True)
        planted.rotated = _rotated_values("local")
        sampler.done.set()
        sampler.join(timeout=10)
        record = pipeline.ledger("local").all()[-1]
        texts = {
            "python logs": "\n".join(collector.lines),
            "release state": str(state.message),
            "backup state": str(backed_up.message),
            "rotation state": str(rotated.message),
            "ps -ww -eo args": "\n".join(sampler.listings),
            **_server_texts(),
            **_run_folder_texts(project.run_root),
        }
        yield Evidence(planted, project, sampler, texts, record)
    finally:
        sampler.done.set()
        for logger in loggers:
            logger.removeHandler(collector)
        logging.getLogger().setLevel(previous)
        _stop_sandboxes(project)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_no_planted_secret_reaches_a_log_record_artifact_report_or_ps(evidence):
    record = evidence.record
    assert (record.version, record.environment) == ("1.1.0", "local")
    apply = record.stage("apply")
    assert apply.details["outputs"]["db_password"] == "(sensitive)", "the output was planted"
    assert any("/backups/primary/" in name for name in evidence.texts), "a backup was made"
    canary = str(evidence.project.root / "load_tests" / "canary.js")
    assert any(canary in listing for listing in evidence.sampler.listings), "ps saw k6"
    assert evidence.sampler.holding("db_password"), "the service ran on the planted password"
    assert evidence.sampler.holding("api_key"), "the service checked the planted API key"
    assert evidence.planted.rotated, "the rotation made new secret values to search for"

    leaks = [
        f"{name} in {where}"
        for where, text in evidence.texts.items()
        for name, value in evidence.planted.values().items()
        if value in text
    ]
    assert leaks == []


def test_no_child_process_holds_a_secret_it_does_not_use(evidence):
    """The backup key and the webhook are ours alone: no child needs them."""
    assert evidence.sampler.environments, "the sampler saw the children"
    holders = evidence.sampler.holding("backup_key", "webhook")
    assert holders == [], "\n".join(holders)
