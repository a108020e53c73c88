"""Amazon SNS: tickets and low budgets to a topic that fans out to mail, chat or tickets."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from petswipe_ops.notify.base import Alert, Delivery, NotificationError
from petswipe_ops.platform.aws.clients import client_config


def sns_client(region: str, endpoint_url: str | None = None) -> Any:
    return boto3.client(
        "sns", region_name=region, endpoint_url=endpoint_url, config=client_config()
    )


class SnsNotifier:
    channel = "sns"

    def __init__(self, topic_arn: str, client: Any) -> None:
        self.topic_arn = topic_arn
        self.client = client

    def send(self, alert: Alert) -> Delivery:
        message = {
            "action": alert.action.value,
            "key": alert.key,
            "summary": alert.summary,
            "source": alert.source,
            "severity": alert.severity,
            "details": alert.details,
            "link": alert.link,
        }
        subject = f"[{alert.severity}] {alert.summary}"
        try:
            reply = self.client.publish(
                TopicArn=self.topic_arn,
                Subject=subject[:100].replace("\n", " "),
                Message=json.dumps(message, default=str),
                MessageAttributes={
                    "severity": {"DataType": "String", "StringValue": alert.severity},
                    "action": {"DataType": "String", "StringValue": alert.action.value},
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise NotificationError(
                f"SNS refused the message about {alert.key} ({code}); check that the topic "
                f"{self.topic_arn} exists and this role may publish to it."
            ) from None
        except BotoCoreError as exc:
            raise NotificationError(
                f"SNS could not be reached for the message about {alert.key} "
                f"({type(exc).__name__})."
            ) from None
        return Delivery(channel=self.channel, delivered=True, detail=reply["MessageId"])
