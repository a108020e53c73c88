"""`check_prefect_api`: a flow is never started against a Prefect API that is not there."""

import pytest

from petswipe_ops.ports import free_ports
from petswipe_ops.prefect_stack import PrefectStackError, check_prefect_api
from tests.fixtures.http_stub import HttpStub


def test_an_unreachable_api_is_one_sentence(monkeypatch):
    url = f"http://127.0.0.1:{free_ports(1)[0]}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    with pytest.raises(PrefectStackError) as err:
        check_prefect_api()
    assert str(err.value) == (
        f"the Prefect API at {url} (PREFECT_API_URL) does not answer (ConnectError); start it "
        "with `make ui`, or unset PREFECT_API_URL to run with a temporary Prefect server."
    )


@pytest.mark.parametrize("url", ["127.0.0.1:4200/api", "ftp://127.0.0.1/api", "http:///api"])
def test_a_malformed_api_url_is_one_sentence(url):
    with pytest.raises(PrefectStackError, match=r"is not an http\(s\) URL such as http://127"):
        check_prefect_api(url)


def test_an_api_that_answers_an_error_is_one_sentence():
    with HttpStub(status=503) as api, pytest.raises(PrefectStackError) as err:
        check_prefect_api(f"{api.url}/api")
    assert str(err.value).endswith(
        "(PREFECT_API_URL) answered HTTP 503 to its health check; check that the URL ends in "
        "/api and the server is healthy."
    )


def test_a_healthy_api_and_no_api_url_pass(monkeypatch):
    with HttpStub() as api:
        check_prefect_api(f"{api.url}/api/")
    assert api.received == [("GET", "/api/health", b"")]
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    check_prefect_api()


def test_credentials_in_the_url_are_not_shown():
    port = free_ports(1)[0]
    with pytest.raises(PrefectStackError) as err:
        check_prefect_api(f"http://user:planted-pass@127.0.0.1:{port}/api")
    assert "planted-pass" not in str(err.value)
