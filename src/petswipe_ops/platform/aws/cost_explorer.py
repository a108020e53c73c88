"""Cost Explorer: daily spend of an environment grouped by cost allocation tag and service."""

from __future__ import annotations

from datetime import date

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from petswipe_ops.errors import ExternalCommandError
from petswipe_ops.platform.aws.clients import client

TAG_PREFIX_SEPARATOR = "$"


class CostRow(BaseModel):
    day: date
    tag: str
    service: str
    amount_usd: float


def daily_costs(
    environment: str, start: date, end: date, *, tag_key: str = "Service", region: str = "us-east-1"
) -> list[CostRow]:
    """UnblendedCost a day of `environment` (its Environment tag) by `tag_key` and AWS service."""
    ce = client("ce", region)
    request = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "Filter": {"Tags": {"Key": "Environment", "Values": [environment]}},
        "GroupBy": [
            {"Type": "TAG", "Key": tag_key},
            {"Type": "DIMENSION", "Key": "SERVICE"},
        ],
    }
    rows: list[CostRow] = []
    token = None
    try:
        while True:
            page = ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
            for period in page.get("ResultsByTime", []):
                day = date.fromisoformat(period["TimePeriod"]["Start"])
                for group in period.get("Groups", []):
                    tag, service = (group["Keys"] + ["", ""])[:2]
                    amount = float(group["Metrics"]["UnblendedCost"]["Amount"])
                    rows.append(
                        CostRow(
                            day=day,
                            tag=tag.split(TAG_PREFIX_SEPARATOR, 1)[-1] or "(untagged)",
                            service=service,
                            amount_usd=amount,
                        )
                    )
            token = page.get("NextPageToken")
            if not token:
                return rows
    except (ClientError, BotoCoreError) as exc:
        raise ExternalCommandError(
            f"Cost Explorer get_cost_and_usage failed: {exc}; check the credentials allow "
            "ce:GetCostAndUsage and that the cost allocation tags are activated."
        ) from exc
