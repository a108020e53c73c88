from pathlib import Path

import pytest

from petswipe_ops.config import load_environment, load_file
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import project_root

ROOT = project_root()


@pytest.mark.parametrize("env", ["local", "staging", "production"])
def test_every_shipped_environment_is_valid(env):
    config = load_environment(env, ROOT)
    assert config.environment == env
    assert config.canary.steps[-1] == 100


def test_local_defaults_follow_the_seed_slos():
    config = load_environment("local", ROOT)
    assert config.canary.steps == [10, 50, 100]
    assert (config.slo.error_rate, config.slo.p95_ms, config.slo.p99_ms) == (0.001, 500, 1000)
    assert config.local is not None and config.local.router_port > 1024


def test_unknown_environment_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown environment 'qa'.*known environments: local"):
        load_environment("qa", ROOT)


def test_environment_name_is_checked_before_touching_the_disk():
    with pytest.raises(ConfigError, match="not a valid environment name"):
        load_environment("../etc", ROOT)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "local.yaml"
    path.write_text(text)
    return path


def test_broken_field_names_file_and_field(tmp_path):
    text = (ROOT / "deployments" / "local.yaml").read_text()
    path = _write(tmp_path, text.replace("steps: [10, 50, 100]", "steps: [10, 50, 90]"))
    with pytest.raises(ConfigError) as err:
        load_file(path)
    message = str(err.value)
    assert str(path) in message and "canary.steps" in message and "ending at 100" in message


def test_unknown_key_is_refused(tmp_path):
    text = (ROOT / "deployments" / "local.yaml").read_text()
    path = _write(tmp_path, text.replace("canary:\n", "canary:\n  stepz: [1]\n", 1))
    with pytest.raises(ConfigError, match=r"canary\.stepz"):
        load_file(path)


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = _write(tmp_path, "environment: local\nservice: [unclosed\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d"):
        load_file(path)


def test_platform_section_must_exist(tmp_path):
    text = (ROOT / "deployments" / "local.yaml").read_text()
    path = _write(tmp_path, text.split("\nlocal:")[0])
    with pytest.raises(ConfigError, match="'local' section is missing"):
        load_file(path)


def test_the_sequential_gate_is_the_default_with_documented_settings(tmp_path):
    config = load_environment("local", ROOT)
    assert config.canary.gate == "sequential"
    assert (config.canary.sequential.alpha, config.canary.sequential.beta) == (0.01, 0.01)
    bare = _write(
        tmp_path,
        "environment: local\nplatform: local\nlocal: {}\n"
        "service: {image: x, resources: {cpu_millicores: 1, memory_mib: 1}}\n",
    )
    assert load_file(bare).canary.gate == "sequential"


def test_a_sequential_setting_out_of_range_names_the_field(tmp_path):
    text = (ROOT / "deployments" / "local.yaml").read_text().replace("alpha: 0.01", "alpha: 0.7")
    with pytest.raises(ConfigError, match=r"field 'canary.sequential.alpha' is invalid"):
        load_file(_write(tmp_path, text))


def test_every_environment_has_a_bake_time_shorter_than_its_steps():
    bakes = {env: load_environment(env, ROOT).canary for env in ("local", "staging", "production")}
    assert {env: c.min_step_seconds for env, c in bakes.items()} == {
        "local": 10,
        "staging": 60,
        "production": 300,
    }
    assert all(c.min_step_seconds < c.max_step_seconds for c in bakes.values())


def test_a_bake_time_as_long_as_the_step_is_one_sentence(tmp_path):
    text = (ROOT / "deployments" / "local.yaml").read_text()
    text = text.replace("min_step_seconds: 10 ", "min_step_seconds: 45 ")
    with pytest.raises(ConfigError, match=r"min_step_seconds \(45\) must be shorter than "):
        load_file(_write(tmp_path, text))
