"""The PagerDuty Events API v2 contract, checked field by field on a local receiver."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from petswipe_ops.config import load_environment
from petswipe_ops.notify.base import Action, Alert, NotificationError
from petswipe_ops.notify.channels import Channels, channels_for
from petswipe_ops.notify.pagerduty import PagerDutyNotifier
from petswipe_ops.paths import project_root
from petswipe_ops.slo.alerting import dispatch, load_state
from petswipe_ops.slo.report import AlertState, SloReport, SloStatus, WindowBurn
from petswipe_ops.slo.windows import RATIO_WINDOWS

KEY = SecretStr("R0UT1NGKEY0123456789abcdefABCDEF")


def pager(url: str, sleeps: list[float] | None = None) -> PagerDutyNotifier:
    return PagerDutyNotifier(
        KEY,
        events_url=url,
        attempts=4,
        backoff_seconds=0.5,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def alert(action: Action = Action.TRIGGER) -> Alert:
    return Alert(
        action=action,
        key="petswipe-slo-local-availability",
        summary="local: availability burning at 16x",
        source="petswipe-api/local",
        severity="critical",
        component="petswipe-api",
        group="local",
        kind="slo-burn",
        details={"burn_rates": {"1h": 16.2, "5m": 20.0}},
        link="file:///tmp/report.md",
        link_text="SLO report",
    )


def test_trigger_then_resolve_with_the_same_dedup_key(receiver):
    notifier = pager(receiver.url)
    notifier.send(alert())
    notifier.send(alert(Action.RESOLVE))
    trigger, resolve = (r["body"] for r in receiver.requests)
    assert receiver.requests[0]["path"] == "/v2/enqueue"
    assert trigger["routing_key"] == KEY.get_secret_value()
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == "petswipe-slo-local-availability"
    payload = trigger["payload"]
    assert payload["summary"] == "local: availability burning at 16x"
    assert payload["source"] == "petswipe-api/local"
    assert payload["severity"] == "critical"
    assert payload["component"] == "petswipe-api" and payload["group"] == "local"
    assert payload["class"] == "slo-burn"
    assert payload["custom_details"] == {"burn_rates": {"1h": 16.2, "5m": 20.0}}
    assert "timestamp" in payload
    assert trigger["links"] == [{"href": "file:///tmp/report.md", "text": "SLO report"}]
    assert resolve == {
        "routing_key": KEY.get_secret_value(),
        "event_action": "resolve",
        "dedup_key": "petswipe-slo-local-availability",
    }


def test_429_and_5xx_are_retried_with_backoff(receiver):
    receiver.answer((429, {"status": "throttle"}), (503, {}), (429, {}))
    sleeps: list[float] = []
    delivery = pager(receiver.url, sleeps).send(alert())
    assert delivery.delivered
    assert len(receiver.requests) == 4
    assert {r["body"]["dedup_key"] for r in receiver.requests} == {alert().key}
    assert sleeps == [0.5, 1.0, 2.0]


def test_retries_give_up_with_one_sentence(receiver):
    receiver.answer(*[(500, {})] * 4)
    with pytest.raises(NotificationError) as failed:
        pager(receiver.url).send(alert())
    assert len(receiver.requests) == 4
    assert "after 4 tries (last: HTTP 500)" in str(failed.value)


def test_400_is_one_sentence_without_retry_or_the_key(receiver):
    receiver.answer(
        (
            400,
            {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": ["'payload.severity' is invalid"],
            },
        )
    )
    with pytest.raises(NotificationError) as refused:
        pager(receiver.url).send(alert())
    sentence = str(refused.value)
    assert len(receiver.requests) == 1
    assert sentence.count(". ") == 0 and sentence.endswith(".")
    assert "400: Event object is invalid: 'payload.severity' is invalid" in sentence
    assert KEY.get_secret_value() not in sentence


def status(state: AlertState, firing: list[str], remaining: float) -> SloStatus:
    burns = {
        w: WindowBurn(window=w, bad=0, total=1, error_ratio=0.02, burn_rate=20.0)
        for w in RATIO_WINDOWS
    }
    return SloStatus(
        name="availability",
        description="",
        objective=0.999,
        window="30d",
        sli=0.998,
        requests=1000,
        budget_remaining=remaining,
        burns=burns,
        firing=firing,
        state=state,
        history_seconds=2592000,
        exhaustion_seconds=3600,
    )


def report(state: AlertState, firing: list[str], remaining: float, at: int) -> SloReport:
    from datetime import UTC, datetime

    return SloReport(
        environment="local",
        generated_at=datetime.fromtimestamp(1796000000 + at, UTC),
        source="test",
        slos=[status(state, firing, remaining)],
        report_id=f"r{at}",
        markdown_path=f"/reports/r{at}.md",
    )


def test_one_incident_per_breach_resolved_when_it_clears(receiver, tmp_path):
    config = load_environment("local", project_root())
    channels = Channels(pager=pager(receiver.url))
    path = tmp_path / "alert-state.json"
    for at in (0, 900, 1800):  # three 15-minute runs during the same breach
        dispatch(config, report(AlertState.PAGE, ["page 1h/5m"], 0.6, at), channels, path)
    assert [r["body"]["event_action"] for r in receiver.requests] == ["trigger"]
    trigger = receiver.requests[0]["body"]
    assert trigger["payload"]["custom_details"]["burn_rates"]["1h"] == 20.0
    assert trigger["links"][0]["href"] == "file:///reports/r0.md"
    dispatch(config, report(AlertState.OK, [], 0.6, 2700), channels, path)
    dispatch(config, report(AlertState.OK, [], 0.6, 3600), channels, path)
    actions = [r["body"]["event_action"] for r in receiver.requests]
    assert actions == ["trigger", "resolve"]
    assert receiver.requests[1]["body"]["dedup_key"] == trigger["dedup_key"]
    dispatch(config, report(AlertState.PAGE, ["page 6h/30m"], 0.5, 4500), channels, path)
    assert [r["body"]["event_action"] for r in receiver.requests][-1] == "trigger"
    assert load_state(path)["availability"].page == "open"


def test_an_interrupted_trigger_is_sent_again_on_the_next_run(receiver, tmp_path):
    config = load_environment("local", project_root())
    channels = Channels(pager=pager(receiver.url))
    path = tmp_path / "alert-state.json"
    receiver.answer(*[(503, {})] * 4)
    events = dispatch(config, report(AlertState.PAGE, ["page 1h/5m"], 0.6, 0), channels, path)
    assert events[0].error and load_state(path)["availability"].page == "triggering"
    dispatch(config, report(AlertState.PAGE, ["page 1h/5m"], 0.6, 900), channels, path)
    assert load_state(path)["availability"].page == "open"
    keys = {r["body"]["dedup_key"] for r in receiver.requests}
    assert keys == {"petswipe-slo-local-availability"}


def test_channels_take_the_routing_key_from_the_secret_store_variable(monkeypatch):
    config = load_environment("local", project_root())
    monkeypatch.delenv("PETSWIPE_PAGERDUTY_ROUTING_KEY", raising=False)
    monkeypatch.delenv("PETSWIPE_NOTIFY_WEBHOOK", raising=False)
    assert channels_for(config).pager is None
    monkeypatch.setenv("PETSWIPE_PAGERDUTY_ROUTING_KEY", KEY.get_secret_value())
    chosen = channels_for(config).pager
    assert chosen is not None
    assert chosen.events_url == "https://events.pagerduty.com/v2/enqueue"
    assert KEY.get_secret_value() not in repr(chosen.routing_key)
