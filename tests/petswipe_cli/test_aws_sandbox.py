"""`petswipe-ops aws-sandbox` commands without a running sandbox."""

from __future__ import annotations

from typer.testing import CliRunner

from petswipe_cli.main import app


def test_status_of_a_sandbox_that_is_not_running(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["aws-sandbox", "status", "--env", "staging"])
    assert result.exit_code == 0
    assert "the AWS sandbox of staging is not running" in result.output


def test_the_sandbox_refuses_a_local_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["aws-sandbox", "up", "--env", "local"])
    assert result.exit_code == 2
    assert "environment 'local' is not an AWS environment" in result.output
    assert not (tmp_path / "local" / "aws-sandbox").exists()


def test_down_without_a_sandbox_changes_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PETSWIPE_RUN_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["aws-sandbox", "down", "--env", "staging"])
    assert result.exit_code == 0 and "stopped" in result.output
