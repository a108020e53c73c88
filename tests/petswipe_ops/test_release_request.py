import pytest

from petswipe_ops import pipeline
from petswipe_ops.errors import ConfigError
from petswipe_ops.release import Fault


@pytest.mark.parametrize("version", ["1.2.0", "2.0.0-rc.1", "10.20.30+build.5"])
def test_semantic_versions_are_accepted(version):
    assert pipeline.validate_request({"version": version}).version == version


@pytest.mark.parametrize("version", ["1.2", "v1.2.0", "latest", "1.02.0", ""])
def test_malformed_version_is_one_sentence(version):
    with pytest.raises(ConfigError, match=r"release parameter 'version' is invalid: .*semantic"):
        pipeline.validate_request({"version": version})


def test_faults_parse_and_become_service_environment():
    fault = Fault.parse("error_rate=0.05,latency_ms=800")
    assert fault.as_env() == {
        "PETSWIPE_FAULT_ERROR_RATE": "0.05",
        "PETSWIPE_FAULT_LATENCY_MS": "800.0",
        "PETSWIPE_FAULT_CLIENT_ERROR_RATE": "0.0",
    }
    assert str(fault) == "error_rate=0.05,latency_ms=800"


def test_a_client_error_fault_reaches_the_service_environment():
    fault = Fault.parse("client_error_rate=0.05")
    assert fault.as_env()["PETSWIPE_FAULT_CLIENT_ERROR_RATE"] == "0.05"
    assert str(fault) == "client_error_rate=0.05"


@pytest.mark.parametrize(
    "text", ["errors=5", "error_rate=2", "latency_ms", "client_error_rate=1.5"]
)
def test_bad_fault_is_refused(text):
    with pytest.raises(ConfigError, match="'fault' is invalid"):
        pipeline.validate_request({"version": "1.0.0", "fault": text})
