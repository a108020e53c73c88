"""prefect.yaml and deployments/<env>.yaml agree on how releases queue."""

from __future__ import annotations

import shutil

import pytest

from petswipe_ops import deployment_spec
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import project_root

REPO = project_root()


@pytest.fixture
def root(tmp_path):
    for name in ("prefect.yaml", "deployments"):
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    return tmp_path


def test_the_shipped_files_agree():
    assert deployment_spec.disagreements(REPO) == []
    assert set(deployment_spec.release_deployments(REPO / "prefect.yaml")) == {
        "local",
        "staging",
        "production",
    }


def test_a_strategy_changed_in_config_only_is_named(root):
    path = root / "deployments" / "staging.yaml"
    path.write_text(
        path.read_text().replace("collision_strategy: enqueue", "collision_strategy: cancel-new")
    )

    with pytest.raises(ConfigError) as raised:
        deployment_spec.check(root)
    assert str(raised.value) == (
        "release/staging has collision_strategy ENQUEUE but deployments/staging.yaml says "
        "cancel-new (write CANCEL_NEW in prefect.yaml)."
    )


def test_an_environment_without_a_release_deployment_is_named(root):
    shutil.copy(root / "deployments" / "local.yaml", root / "deployments" / "qa.yaml")
    path = root / "deployments" / "qa.yaml"
    path.write_text(path.read_text().replace("environment: local", "environment: qa"))

    assert deployment_spec.disagreements(root) == [
        "prefect.yaml has no release deployment for 'qa'"
    ]


def test_a_release_deployment_without_a_limit_of_one_is_named(root):
    path = root / "prefect.yaml"
    path.write_text(
        path.read_text().replace(
            "limit: 1\n      collision_strategy: CANCEL_NEW",
            "limit: 2\n      collision_strategy: CANCEL_NEW",
        )
    )

    assert deployment_spec.disagreements(root) == [
        "release/production must have concurrency_limit.limit 1"
    ]


def test_an_unknown_collision_strategy_is_one_sentence(root):
    path = root / "deployments" / "local.yaml"
    path.write_text(path.read_text().replace("strategy: enqueue", "strategy: queue"))

    with pytest.raises(ConfigError) as raised:
        deployment_spec.check(root)
    assert "field 'release.collision_strategy' is invalid: Input should be 'enqueue' or " in str(
        raised.value
    )
