from pathlib import Path

import pytest
import yaml

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


def _local_with(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((ROOT / "deployments" / "local.yaml").read_text())
    change(data)
    return _write(tmp_path, yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (
            lambda d: d["local"].update(stable_version="1.0"),
            "field 'local.stable_version' is invalid: '1.0' is not a semantic version such as "
            "1.4.0.",
        ),
        (
            lambda d: d["service"]["health_check"].update(path="health"),
            "field 'service.health_check.path' is invalid: 'health' must start with / and hold "
            "no spaces or newlines, e.g. /health.",
        ),
        (
            lambda d: d["service"]["health_check"].update(path="/health\nhttp-check send"),
            "field 'service.health_check.path' is invalid: '/health\\nhttp-check send' must "
            "start with / and hold no spaces or newlines, e.g. /health.",
        ),
        (
            lambda d: d["local"].update(router_port=80),
            "field 'local.router_port' is invalid: Input should be greater than or equal to 1024.",
        ),
        (
            lambda d: d["local"].update(service_ports=[18081, 70000]),
            "field 'local.service_ports.1' is invalid: Input should be less than or equal to "
            "65535.",
        ),
        (
            lambda d: d["local"].update(service_ports=[18081, 18081]),
            "field 'local.service_ports' is invalid: needs two different ports for stable and "
            "candidate, not 18081 twice.",
        ),
        (
            lambda d: d["local"].update(service_ports=[18081, 18080]),
            "field 'local.service_ports' is invalid: port 18080 is already the router's "
            "(router_port).",
        ),
        (
            lambda d: d["local"]["postgres"].update(port=18082),
            "field 'local.postgres' is invalid: port 18082 is already taken by service_ports.",
        ),
        (
            lambda d: d["local"]["postgres"].update(port=18080),
            "field 'local.postgres' is invalid: port 18080 is already taken by router_port.",
        ),
        (
            lambda d: d["canary"].update(min_requests=5),
            "field 'canary.min_requests' is invalid: Input should be greater than or equal to 20.",
        ),
        (
            lambda d: d["canary"].update(traffic_rate=50_000),
            "field 'canary.traffic_rate' is invalid: Input should be less than or equal to 1000.",
        ),
        (
            lambda d: d["canary"].update(max_step_seconds=86_400),
            "field 'canary.max_step_seconds' is invalid: Input should be less than or equal "
            "to 3600.",
        ),
        (
            lambda d: d["canary"].update(observe_interval_seconds=60),
            "field 'canary.observe_interval_seconds' is invalid: must be shorter than "
            "max_step_seconds (45), or a step never looks.",
        ),
        (
            lambda d: d["canary"].update(observe_interval_seconds=0.001),
            "field 'canary.observe_interval_seconds' is invalid: Input should be greater than "
            "or equal to 0.05.",
        ),
        (
            lambda d: d["canary"].update(metric_error_limit=1000),
            "field 'canary.metric_error_limit' is invalid: Input should be less than or equal "
            "to 100.",
        ),
        (
            lambda d: d["approval"].update(timeout_seconds=10**9),
            "field 'approval.timeout_seconds' is invalid: Input should be less than or equal "
            "to 604800.",
        ),
    ],
)
def test_a_bad_value_is_one_sentence_naming_file_and_field(tmp_path, change, sentence):
    path = _local_with(tmp_path, change)
    with pytest.raises(ConfigError) as err:
        load_file(path)
    assert str(err.value) == f"{path}: {sentence}"
