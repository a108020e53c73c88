"""Rego policies on the deployment manifest, evaluated in process with regopy (rego-cpp).

Every non-test `.rego` file in the policy folder is one policy whose package defines a
`deny` set of messages. regopy has no `opa test`, so `run_policy_tests` finds the
`test_*` rules itself; it runs each test file in a child process because a rego-cpp
crash on an unusual test expression would otherwise take the whole pipeline down.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from regopy import Interpreter
from regopy.rego_shared import RegoError, rego_get_error

from petswipe_ops.errors import OpsError, PolicyViolation
from petswipe_ops.jsonfile import CorruptFile, load_model, write_atomically
from petswipe_ops.proc import run

PACKAGE = re.compile(r"^package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)
ERROR_MESSAGE = re.compile(r"\(errormsg \d+:(.*)\)")
ERROR_OFFSET = re.compile(r"\(error \d+:[^|]*\|(\d+)\|")


class Violation(BaseModel):
    policy: str
    message: str


class PolicyReport(BaseModel):
    violations: list[Violation]
    policies: list[str]

    @property
    def allowed(self) -> bool:
        return not self.violations


class PolicyTestResult(BaseModel):
    package: str
    name: str
    passed: bool


class PolicyTestReport(BaseModel):
    results: list[PolicyTestResult]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[PolicyTestResult]:
        return [r for r in self.results if not r.passed]


def policy_files(policy_dir: Path) -> list[Path]:
    """The policies proper: every `.rego` file that is not a `*_test.rego` file."""
    return sorted(p for p in policy_dir.glob("*.rego") if not p.stem.endswith("_test"))


def policy_test_files(policy_dir: Path) -> list[Path]:
    return sorted(policy_dir.glob("*_test.rego"))


def evaluate(manifest: dict[str, Any], policy_dir: Path) -> PolicyReport:
    """Evaluate `data.<package>.deny` of every policy in `policy_dir` on `manifest`."""
    files = policy_files(policy_dir)
    if not files:
        raise OpsError(
            f"{policy_dir} holds no .rego policies; point the policy folder at policies/."
        )
    violations: list[Violation] = []
    for path in files:
        package = _package(path)
        rego = _interpreter([path])
        rego.set_input(manifest)
        messages = _query(rego, f"data.{package}.deny", path)
        if messages is None:
            raise OpsError(f"{path.name} defines no deny rule; add `deny contains msg if {{...}}`.")
        violations.extend(Violation(policy=path.stem, message=m) for m in sorted(messages))
    return PolicyReport(violations=violations, policies=[p.stem for p in files])


def enforce(manifest: dict[str, Any], policy_dir: Path) -> PolicyReport:
    """Evaluate the policies and raise PolicyViolation when any rule denies the deployment."""
    report = evaluate(manifest, policy_dir)
    if not report.allowed:
        listed = "; ".join(f"[{v.policy}] {v.message}" for v in report.violations)
        raise PolicyViolation(
            f"the deployment violates {len(report.violations)} policy rules: {listed}; "
            "fix the manifest or the environment file."
        )
    return report


class PassedPolicyTests(BaseModel):
    """A passed run of the policies' tests, for the exact `.rego` sources it ran on."""

    digest: str
    report: PolicyTestReport


def sources_digest(policy_dir: Path) -> str:
    """One hash over every `.rego` file's name and text and the rego engine's version."""
    digest = hashlib.sha256(importlib.metadata.version("regopy").encode())
    for path in sorted(policy_dir.glob("*.rego")):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_policy_tests(
    policy_dir: Path, *, timeout: float = 120, passed_cache: Path | None = None
) -> PolicyTestReport:
    """Run every `test_*` rule of every `*_test.rego` file; a test passes when it is true.

    With `passed_cache` (a folder), a report that passed on the very same sources is
    reused: every release runs the tests, and the policies rarely change between two.
    """
    files = policy_test_files(policy_dir)
    if not files:
        raise OpsError(f"{policy_dir} holds no *_test.rego files; add tests beside the policies.")
    digest = sources_digest(policy_dir)
    cached_file = passed_cache / f"{digest}.json" if passed_cache is not None else None
    if cached_file is not None and cached_file.is_file():
        try:
            cached = load_model(cached_file, PassedPolicyTests)
        except CorruptFile:
            cached = None
        if cached is not None and cached.digest == digest and cached.report.passed:
            return cached.report
    report = _run_policy_tests(policy_dir, files, timeout)
    if cached_file is not None and report.passed:
        write_atomically(cached_file, PassedPolicyTests(digest=digest, report=report))
    return report


def _run_policy_tests(policy_dir: Path, files: list[Path], timeout: float) -> PolicyTestReport:
    results: list[PolicyTestResult] = []
    for test_file in files:
        args = [sys.executable, "-m", "petswipe_ops.policy", str(test_file)]
        done = run(args + [str(p) for p in policy_files(policy_dir)], timeout=timeout, check=False)
        if done.returncode < 0:
            raise OpsError(
                f"the rego engine crashed (signal {-done.returncode}) running {test_file.name}; "
                "simplify the `with` clauses of its tests (see docs/decisions.md)."
            )
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no output"]
            raise OpsError(lines[-1])
        last_line = (done.stdout.strip().splitlines() or ["[]"])[-1]
        results.extend(PolicyTestResult.model_validate(r) for r in json.loads(last_line))
    return PolicyTestReport(results=results)


def _run_test_file(test_file: Path, policies: list[Path]) -> list[PolicyTestResult]:
    package = _package(test_file)
    rego = _interpreter([*policies, test_file])
    names = sorted(set(TEST_RULE.findall(test_file.read_text())))
    results = []
    for name in names:
        value = _query(rego, f"data.{package}.{name}", test_file)
        results.append(PolicyTestResult(package=package, name=name, passed=value is True))
    return results


def _package(path: Path) -> str:
    match = PACKAGE.search(path.read_text())
    if not match:
        raise OpsError(f"{path.name} has no package line; start it with `package petswipe.<name>`.")
    return match.group(1)


def _interpreter(paths: list[Path]) -> Interpreter:
    rego = Interpreter()
    for path in paths:
        source = path.read_text()
        try:
            rego.add_module(path.name, source)
        except RegoError as exc:
            raise OpsError(f"{path.name} does not compile: {_describe(str(exc), source)}.") from exc
    return rego


def _query(rego: Interpreter, query: str, path: Path) -> Any:
    """The value of `query`, or None when it is undefined.

    Errors are read from the interpreter: regopy segfaults when an error output is printed.
    """
    try:
        output = rego.query(query)
    except RegoError as exc:
        raise OpsError(f"{path.name} could not be evaluated: {_describe(str(exc), '')}.") from exc
    except json.JSONDecodeError as exc:
        raise OpsError(
            f"{path.name} produced output that is not JSON; avoid passing a concat or a string "
            "literal default to sprintf."
        ) from exc
    if not output.ok():
        detail = _describe(rego_get_error(rego._impl), path.read_text())
        raise OpsError(f"{path.name} does not compile or evaluate: {detail}.")
    if not output.results or not output.results[0].expressions:
        return None
    return output.results[0].expressions[0]


def _describe(error: str, source: str) -> str:
    """One line from rego-cpp's error tree: the message and, when known, the line number."""
    messages = ERROR_MESSAGE.findall(error)
    text = messages[0] if messages else (error.strip().splitlines() or ["unknown error"])[0]
    offset = ERROR_OFFSET.search(error)
    if offset and source:
        line = source.count("\n", 0, int(offset.group(1))) + 1
        return f"{text.strip()} at line {line}"
    return text.strip()


def _main(argv: list[str]) -> int:
    """Child entry point of run_policy_tests: `python -m petswipe_ops.policy TEST POLICY...`."""
    test_file, *policies = (Path(a) for a in argv)
    try:
        results = _run_test_file(test_file, policies)
    except OpsError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps([r.model_dump() for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
