"""Bad input to the secrets, flags and cdn commands (in process, as typer runs them): one
sentence, a non-zero exit, and nothing changed in the environment's run folder."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from petswipe_cli.main import app


def _state(project) -> list[str]:
    run = project.run_root
    return sorted(str(p.relative_to(run)) for p in run.rglob("*")) if run.exists() else []


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (
            ("secrets", "rotate", "--secret", "password"),
            "unknown secret 'password'; choose one of: db, api-key, jwt.",
        ),
        (
            ("flags", "enable", "--flag", "no-such-flag", "--strategy", "immediate"),
            "unknown flag 'no-such-flag'; known flags: recommended-feed.",
        ),
        (("flags", "disable", "--flag", "no-such-flag"), "unknown flag 'no-such-flag'"),
        (("flags", "enable", "--flag", "Bad Name"), "'Bad Name' is not a valid flag name"),
        (("flags", "disable", "--flag", "9lives"), "'9lives' is not a valid flag name"),
        (
            ("flags", "enable", "--flag", "recommended-feed", "--strategy", "yolo"),
            "unknown strategy 'yolo'; choose one of: gradual, canary, immediate.",
        ),
    ],
)
def test_bad_input_is_one_sentence_and_changes_nothing(make_project, args, sentence):
    project = make_project()
    before = _state(project)
    result = CliRunner().invoke(app, [*args, "--env", "local"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert sentence in lines[0]
    assert _state(project) == before
