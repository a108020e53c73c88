"""prefect.yaml gives every environment a release deployment and none a deployment
concurrency limit (it would crash a release paused for approval)."""

from __future__ import annotations

import shutil

import pytest

from petswipe_ops import deployment_spec
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import project_root

REPO = project_root()


@pytest.fixture
def root(tmp_path):
    for name in ("prefect.yaml", "deployments", "deploy/aws/prefect.yaml"):
        source, copy = REPO / name, tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy)
    return tmp_path


def test_the_shipped_files_pass():
    assert deployment_spec.problems(REPO) == []
    assert set(deployment_spec.release_deployments(REPO / "prefect.yaml")) == {
        "local",
        "staging",
        "production",
    }
    assert deployment_spec.deployment_names(REPO / "prefect.yaml")[:4] == [
        "release/local",
        "release/staging",
        "release/production",
        "load-test-campaign/local",
    ]


def test_a_deployment_concurrency_limit_is_named_with_why_and_what_to_do(root):
    path = root / "deploy" / "aws" / "prefect.yaml"
    path.write_text(
        path.read_text().replace(
            "    tags: [release, production, aws]\n",
            "    tags: [release, production, aws]\n"
            "    concurrency_limit: {limit: 1, collision_strategy: CANCEL_NEW}\n",
        )
    )

    with pytest.raises(ConfigError) as raised:
        deployment_spec.check(root)
    assert str(raised.value) == (
        "release/production in deploy/aws/prefect.yaml sets concurrency_limit; remove it: "
        "Prefect frees that slot when the release pauses for approval and then crashes the "
        "paused run, and the flow's global concurrency limit release-production already keeps "
        "one release at a time (release.collision_strategy in deployments/production.yaml)."
    )


def test_an_environment_without_a_release_deployment_is_named(root):
    shutil.copy(root / "deployments" / "local.yaml", root / "deployments" / "qa.yaml")
    path = root / "deployments" / "qa.yaml"
    path.write_text(path.read_text().replace("environment: local", "environment: qa"))

    assert deployment_spec.problems(root) == [
        "prefect.yaml has no release deployment for 'qa'",
        "prefect.yaml has no slo-report deployment for 'qa'",
    ]


def test_a_broken_prefect_yaml_is_one_sentence(root):
    (root / "prefect.yaml").write_text("deployments: [\n")

    with pytest.raises(ConfigError, match=r"prefect\.yaml cannot be read as YAML: "):
        deployment_spec.check(root)
