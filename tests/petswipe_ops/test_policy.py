"""Rego policies on real manifests, evaluated by regopy."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from petswipe_ops.config import load_environment
from petswipe_ops.errors import OpsError, PolicyViolation
from petswipe_ops.manifest import build_manifest
from petswipe_ops.policy import enforce, evaluate, run_policy_tests

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"


@pytest.fixture
def manifest() -> dict[str, Any]:
    return build_manifest(load_environment("local", ROOT), "1.2.0")


def messages(manifest: dict[str, Any]) -> list[str]:
    return [v.message for v in evaluate(manifest, POLICIES).violations]


def test_local_manifest_passes(manifest: dict[str, Any]) -> None:
    report = enforce(manifest, POLICIES)
    assert report.allowed
    assert report.policies == ["deployment", "plan", "resource-limits", "security"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda m: m["image"].update(tag="latest"),
            "image tag 'latest' is mutable; release an immutable version tag",
        ),
        (
            lambda m: m["security"].update(run_as_user=0),
            "security.run_as_user is 0 (root); run as an unprivileged uid such as 10001",
        ),
        (
            lambda m: m["image"].update(registry="docker.io"),
            "image registry 'docker.io' is not approved; "
            "push to registry.petswipe.dev or the account's ECR",
        ),
        (
            lambda m: m.pop("health_check"),
            "health_check is missing; declare a health check path such as /health",
        ),
        (
            lambda m: m["resources"].update(cpu_millicores=8000),
            "resources.cpu_millicores is 8000; keep it between 128 and 4096",
        ),
    ],
    ids=["tag-latest", "root-user", "unapproved-registry", "no-health-check", "cpu-too-high"],
)
def test_bad_manifest_is_denied_with_a_clear_message(
    manifest: dict[str, Any], change: Any, expected: str
) -> None:
    bad = copy.deepcopy(manifest)
    change(bad)
    assert expected in messages(bad)


def test_enforce_lists_every_violation_in_one_sentence(manifest: dict[str, Any]) -> None:
    bad = copy.deepcopy(manifest)
    bad["image"]["tag"] = "latest"
    bad["replicas"] = 1
    with pytest.raises(PolicyViolation) as caught:
        enforce(bad, POLICIES)
    text = str(caught.value)
    assert text.startswith("the deployment violates 2 policy rules: [deployment] ")
    assert "replicas is 1" in text and "image tag 'latest'" in text
    assert text.endswith("fix the manifest or the environment file.")


def test_rego_test_suite_passes() -> None:
    report = run_policy_tests(POLICIES)
    assert report.passed, [f"{r.package}.{r.name}" for r in report.failures]
    packages = {r.package for r in report.results}
    assert packages == {
        "petswipe.deployment_test",
        "petswipe.plan_test",
        "petswipe.security_test",
        "petswipe.resource_limits_test",
    }


def test_rego_test_suite_catches_a_broken_policy(tmp_path: Path) -> None:
    shutil.copytree(POLICIES, tmp_path, dirs_exist_ok=True)
    policy = tmp_path / "deployment.rego"
    policy.write_text(policy.read_text().replace('tag == "latest"', 'tag == "stable"'))
    failures = {r.name for r in run_policy_tests(tmp_path).failures}
    assert failures == {"test_latest_tag_is_denied"}


def test_policy_that_does_not_compile_names_the_file(
    tmp_path: Path, manifest: dict[str, Any]
) -> None:
    (tmp_path / "broken.rego").write_text("package petswipe.broken\n\ndeny contains msg if {\n")
    with pytest.raises(OpsError, match=r"^broken\.rego does not compile: "):
        evaluate(manifest, tmp_path)


def test_policy_without_deny_rule_is_an_error(tmp_path: Path, manifest: dict[str, Any]) -> None:
    (tmp_path / "empty.rego").write_text("package petswipe.empty\n\nallow := true\n")
    with pytest.raises(OpsError, match=r"empty\.rego defines no deny rule"):
        evaluate(manifest, tmp_path)


def test_a_passed_run_is_reused_only_for_the_same_sources(tmp_path: Path, monkeypatch) -> None:
    import petswipe_ops.policy as policy_module

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    cache = tmp_path / "cache"
    first = run_policy_tests(policies, passed_cache=cache)
    assert first.passed and len(list(cache.glob("*.json"))) == 1
    with monkeypatch.context() as patched:
        patched.setattr(policy_module, "_run_policy_tests", lambda *a: pytest.fail("ran again"))
        assert run_policy_tests(policies, passed_cache=cache) == first

    policy = policies / "deployment.rego"
    policy.write_text(policy.read_text().replace('tag == "latest"', 'tag == "stable"'))
    changed = run_policy_tests(policies, passed_cache=cache)
    assert {r.name for r in changed.failures} == {"test_latest_tag_is_denied"}

    next(cache.glob("*.json")).write_text("{not json")
    policy.write_text((POLICIES / "deployment.rego").read_text())
    assert run_policy_tests(policies, passed_cache=cache).passed
    assert run_policy_tests(policies, passed_cache=cache) == first
