"""Make variables as a user types them: a value is one argument to the command line, never
shell or make syntax, so an injected command is refused by the CLI's validator and not run."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.conftest import REPO


def make(project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **project.env()},
        check=False,
    )


def nothing_ran(project, planted) -> None:
    assert not planted.exists()
    assert not (project.run_root / "local" / "releases").exists()


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without make's own `*** [Makefile:N: target] Error 2` trailer."""
    trailer = re.compile(r"^make(\[\d+\])?: \*\*\*")  # make[1] when run under `make test`
    return [line for line in result.stderr.splitlines() if not trailer.match(line)]


@pytest.mark.parametrize("target", ["release", "deploy-canary"])
def test_a_command_in_version_is_one_sentence_and_is_not_run(make_project, tmp_path, target):
    project = make_project()
    planted = tmp_path / "planted"
    result = make(project, target, "ENV=local", f"VERSION=7.0.6;touch {planted}")
    assert result.returncode != 0
    assert error_lines(result) == [
        f"error: release parameter 'version' is invalid: '7.0.6;touch {planted}' is not a "
        "semantic version such as 1.4.0 or 2.0.0-rc.1."
    ]
    nothing_ran(project, planted)


def test_make_functions_in_a_value_are_not_expanded(make_project, tmp_path):
    project = make_project()
    planted = tmp_path / "planted"
    value = f"$(shell touch {planted})"
    result = make(project, "release", f"VERSION={value}", f"FAULT=$(shell touch {planted})")
    assert result.returncode != 0
    assert f"'{value}' is not a semantic version" in result.stderr
    nothing_ran(project, planted)


def test_quotes_and_spaces_stay_inside_one_argument(make_project, tmp_path):
    project = make_project()
    planted = tmp_path / "planted"
    result = make(project, "db-status", f'ENV=local" ; touch {planted} ; echo "')
    assert result.returncode != 0
    assert error_lines(result) == [
        f"error: 'local\" ; touch {planted} ; echo \"' is not a valid environment name; "
        "use lowercase letters, digits and dashes."
    ]
    assert not planted.exists()


def test_approve_passes_run_and_reason_as_arguments(make_project, tmp_path):
    project = make_project()
    planted = tmp_path / "planted"
    result = make(
        project, "approve", f"RUN=--reject;touch {planted}", f'REASON="; touch {planted}; "'
    )
    assert result.returncode != 0
    assert error_lines(result) == [
        f"error: '--reject;touch {planted}' is not a flow run id; copy it from the run's page."
    ]
    assert not planted.exists()


def test_a_fault_with_a_command_is_refused_before_anything_starts(make_project, tmp_path):
    project = make_project()
    planted = tmp_path / "planted"
    result = make(project, "release", "VERSION=7.0.6", f"FAULT=error_rate=0.05 && touch {planted}")
    assert result.returncode != 0
    assert len(error_lines(result)) == 1
    assert "release parameter 'fault' is invalid" in result.stderr
    nothing_ran(project, planted)


def test_the_aws_sandbox_targets_default_to_staging(make_project):
    """AWS_ENV is defined before make's `unexport` of the user variables, which would
    otherwise leave it empty and every aws-sandbox target refused for a '' environment."""
    project = make_project()
    result = make(project, "aws-sandbox-status")
    assert result.returncode == 0, result.stderr
    assert "the AWS sandbox of staging is not running" in result.stdout
