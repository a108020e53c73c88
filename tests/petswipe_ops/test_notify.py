import pytest

from petswipe_ops.errors import OpsError
from petswipe_ops.notify import notify
from tests.fixtures.http_stub import HttpStub

SECRET = "T000/B000/planted-webhook-token"


@pytest.mark.parametrize(
    "url",
    [
        f"hooks.slack.com/services/{SECRET}",
        f"http://hooks.slack.com/services/{SECRET}",
        f"ftp://hooks.slack.com/services/{SECRET}",
        f"https:///services/{SECRET}",
        f"https://hooks.slack.com/services/{SECRET} extra",
        f"https://hooks.slack.com/services/{SECRET}\nX-Injected: 1",
        f"https://exa mple.com/{SECRET}",
    ],
)
def test_a_malformed_webhook_url_is_one_sentence_without_the_url(monkeypatch, url):
    monkeypatch.setenv("PETSWIPE_NOTIFY_WEBHOOK", url)
    with pytest.raises(OpsError) as err:
        notify("drill failed", "PETSWIPE_NOTIFY_WEBHOOK")
    assert str(err.value) == (
        "the notification webhook in PETSWIPE_NOTIFY_WEBHOOK is not an https URL with a host; "
        "set it to the incoming-webhook URL your chat tool gave you."
    )
    assert "planted-webhook-token" not in str(err.value)


def test_a_webhook_on_this_machine_may_be_plain_http(monkeypatch):
    with HttpStub() as hook:
        monkeypatch.setenv("PETSWIPE_NOTIFY_WEBHOOK", f"{hook.url}/hook")
        sent = notify("drill failed", "PETSWIPE_NOTIFY_WEBHOOK")
    assert sent.delivered
    assert hook.received == [("POST", "/hook", b'{"text":"drill failed"}')]
