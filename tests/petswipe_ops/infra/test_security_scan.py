"""The security scan with the real checkov and trivy, on a small project with a known flaw."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from petswipe_ops.errors import MissingBinaryError
from petswipe_ops.paths import project_root
from petswipe_ops.security_scan import Severity, security_scan

PUBLIC_BUCKET = """
resource "aws_s3_bucket" "photos" {
  bucket = "petswipe-public-photos"
}

resource "aws_s3_bucket_acl" "photos" {
  bucket = aws_s3_bucket.photos.id
  acl    = "public-read-write"
}

resource "aws_security_group" "admin" {
  name = "admin"

  ingress {
    description = "ssh from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


@pytest.fixture
def small_project(tmp_path, monkeypatch):
    """deployments/ with the local environment only (no plans), a terraform root with flaws."""
    repo = project_root()
    (tmp_path / "deployments").mkdir()
    shutil.copy(repo / "deployments" / "local.yaml", tmp_path / "deployments")
    for name in ("policies", "security"):
        (tmp_path / name).symlink_to(repo / name)
    shutil.copy(repo / "uv.lock", tmp_path / "uv.lock")
    root = tmp_path / "terraform" / "environments" / "local"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(PUBLIC_BUCKET)
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path / "run"))
    return tmp_path


@pytest.mark.integration
def test_scan_fails_on_high_findings_naming_file_and_line(small_project):
    report = security_scan(small_project)

    assert not report.passed
    ssh = [f for f in report.blocking if f.source == "checkov" and f.check_id == "CKV_AWS_24"]
    assert ssh and ssh[0].severity is Severity.CRITICAL
    assert ssh[0].file == "terraform/environments/local/main.tf" and ssh[0].line == 11
    assert any(
        f.source == "trivy" and f.severity in (Severity.HIGH, Severity.CRITICAL)
        for f in report.findings
    )
    text = report.as_text()
    assert "NOT scanned: dependency audit" in text
    assert "HIGH/CRITICAL findings: the scan fails" in text
    assert (small_project / "run" / "security-scan" / "report.json").is_file()


def test_missing_checkov_is_one_sentence(small_project, monkeypatch):
    monkeypatch.setenv("PETSWIPE_CHECKOV_BIN", str(small_project / "no-checkov"))
    with pytest.raises(MissingBinaryError) as raised:
        security_scan(small_project)
    message = str(raised.value)
    assert message.count(". ") == 0 and "checkov was not found" in message
    assert "uv tool install checkov==" in message
    assert not (small_project / "run").exists()


def test_cli_missing_checkov_exits_non_zero(small_project):
    env = {
        **os.environ,
        "PETSWIPE_ROOT": str(small_project),
        "PETSWIPE_CHECKOV_BIN": str(small_project / "no-checkov"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "petswipe_cli.main", "infra", "security-scan"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: checkov was not found")
    assert len(done.stderr.strip().splitlines()) == 1
