"""Slack, SNS (on a real moto server) and the rollback notification behind the Notifier seam."""

from __future__ import annotations

import json

import boto3
import pytest
from pydantic import SecretStr

from petswipe_ops.config import load_environment
from petswipe_ops.notify import notify
from petswipe_ops.notify.base import Alert, NotificationError, Notifier
from petswipe_ops.notify.channels import Channels
from petswipe_ops.notify.rollback import notify_rollback
from petswipe_ops.notify.slack import SlackNotifier
from petswipe_ops.notify.sns import SnsNotifier, sns_client
from petswipe_ops.paths import project_root


def ticket() -> Alert:
    return Alert(
        key="petswipe-slo-local-availability-ticket",
        summary="local: availability burning at 3.2x over 1 d",
        source="petswipe-api/local",
        severity="warning",
        details={"slo": "availability", "budget_remaining": 0.4},
        link="file:///tmp/r.md",
    )


def test_slack_posts_one_message_with_the_figures_and_link(receiver):
    SlackNotifier(SecretStr(receiver.url)).send(ticket())
    text = receiver.requests[0]["body"]["text"]
    assert text.startswith(":warning: local: availability burning at 3.2x over 1 d")
    assert "budget_remaining: 0.4" in text and "<file:///tmp/r.md|report>" in text


def test_slack_failure_is_one_sentence_without_the_url(receiver):
    receiver.answer((500, {}))
    with pytest.raises(NotificationError) as failed:
        SlackNotifier(SecretStr(receiver.url)).send(ticket())
    assert receiver.url not in str(failed.value)


def test_sns_publishes_to_the_topic(moto_endpoint, monkeypatch):
    for key, value in moto_endpoint.env().items():
        monkeypatch.setenv(key, value)
    region = moto_endpoint.region
    topic = boto3.client("sns", region_name=region).create_topic(Name="slo-tickets")["TopicArn"]
    sqs = boto3.client("sqs", region_name=region)
    queue = sqs.create_queue(QueueName="slo-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns", region_name=region).subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn
    )
    notifier: Notifier = SnsNotifier(topic, sns_client(region))
    assert notifier.send(ticket()).delivered
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["Subject"] == "[warning] local: availability burning at 3.2x over 1 d"
    message = json.loads(body["Message"])
    assert message["key"] == "petswipe-slo-local-availability-ticket"
    assert message["details"]["budget_remaining"] == 0.4


def test_sns_to_a_missing_topic_is_one_sentence(moto_endpoint, monkeypatch):
    for key, value in moto_endpoint.env().items():
        monkeypatch.setenv(key, value)
    missing = f"arn:aws:sns:{moto_endpoint.region}:123456789012:nowhere"
    with pytest.raises(NotificationError) as failed:
        SnsNotifier(missing, sns_client(moto_endpoint.region)).send(ticket())
    assert str(failed.value).startswith("SNS refused the message about")
    assert "check that the topic" in str(failed.value)


def test_rollback_notification_carries_its_reason_and_never_raises(receiver):
    config = load_environment("local", project_root())
    slack = SlackNotifier(SecretStr(receiver.url))
    sent = notify_rollback(
        config,
        release_id="r-42",
        version="1.4.0",
        reason="canary error rate 5.1 % against 0.1 %",
        channels=Channels(tickets=[slack]),
    )
    assert [d.delivered for d in sent] == [True]
    text = receiver.requests[0]["body"]["text"]
    assert "release 1.4.0 to local rolled back: canary error rate 5.1 % against 0.1 %" in text
    receiver.answer((500, {}))
    failed = notify_rollback(
        config, release_id="r-43", version="1.4.1", reason="p99", channels=Channels(tickets=[slack])
    )
    assert not failed[0].delivered and "Slack webhook did not accept" in failed[0].detail
    logged = notify_rollback(
        config, release_id="r-44", version="1.4.2", reason="p99", channels=Channels()
    )
    assert logged[0].channel == "log" and "rolled back: p99" in logged[0].detail


def test_backup_webhook_notify_still_works(receiver, monkeypatch):
    monkeypatch.setenv("PETSWIPE_TEST_WEBHOOK", receiver.url)
    sent = notify("backup failed", "PETSWIPE_TEST_WEBHOOK")
    assert sent.delivered and receiver.requests[0]["body"] == {"text": "backup failed"}
