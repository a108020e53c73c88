"""Monthly cost of a terraform plan from a committed price table, and its diff against now.

Like infracost: each planned resource is priced by the rule its type maps to in
`pricing/aws-<region>.yaml` (list prices with their date), with usage the plan cannot
know (traffic, stored bytes) taken from the table's usage assumptions. A resource type the
table does not know is an error naming it, so a new kind of resource is never silently
free. The resource-limits policy judges this figure, not a hand-written one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from petswipe_ops.errors import ConfigError
from petswipe_ops.plan_json import PlannedResource, resources

DEFAULT_TABLE = Path("pricing") / "aws-us-east-1.yaml"
FREE = "free"


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: str
    region: str
    currency: str = "USD"
    hours_per_month: float = 730
    prices: dict[str, Any]
    usage: dict[str, float]
    resource_types: dict[str, str]
    path: str = ""


class CostLine(BaseModel):
    address: str
    type: str
    current_usd: float
    planned_usd: float
    detail: str

    @property
    def diff_usd(self) -> float:
        return self.planned_usd - self.current_usd


class CostEstimate(BaseModel):
    environment: str = ""
    table_date: str
    region: str
    currency: str
    lines: list[CostLine]

    @property
    def monthly_total_usd(self) -> float:
        return round(sum(line.planned_usd for line in self.lines), 2)

    @property
    def current_total_usd(self) -> float:
        return round(sum(line.current_usd for line in self.lines), 2)

    @property
    def diff_usd(self) -> float:
        return round(self.monthly_total_usd - self.current_total_usd, 2)

    def as_text(self) -> str:
        width = max([len(line.address) for line in self.lines] + [8])
        head = f"{'resource':<{width}}  {'current':>10}  {'planned':>10}  {'diff':>10}  basis"
        rows = [
            f"Monthly cost of {self.environment or 'the plan'} ({self.region} list prices "
            f"of {self.table_date}, {self.currency})",
            head,
            "-" * len(head),
        ]
        for line in sorted(self.lines, key=lambda x: -x.planned_usd):
            if line.planned_usd == 0 and line.current_usd == 0:
                continue
            rows.append(
                f"{line.address:<{width}}  {line.current_usd:>10.2f}  {line.planned_usd:>10.2f}"
                f"  {line.diff_usd:>+10.2f}  {line.detail}"
            )
        free = sum(1 for x in self.lines if x.planned_usd == 0 and x.current_usd == 0)
        rows.append(f"({free} resources without a charge of their own not listed)")
        rows.append(
            f"{'TOTAL':<{width}}  {self.current_total_usd:>10.2f}  {self.monthly_total_usd:>10.2f}"
            f"  {self.diff_usd:>+10.2f}  USD per month"
        )
        return "\n".join(rows)


def load_price_table(project: Path, path: Path | None = None) -> PriceTable:
    table_path = path or project / DEFAULT_TABLE
    if not table_path.is_file():
        raise ConfigError(f"price table {table_path} does not exist; restore pricing/ from git.")
    try:
        raw = yaml.safe_load(table_path.read_text())
        table = PriceTable.model_validate({**(raw or {}), "path": str(table_path)})
    except (yaml.YAMLError, ValidationError) as exc:
        first = exc.errors()[0]["loc"] if isinstance(exc, ValidationError) else "syntax"
        raise ConfigError(f"price table {table_path} is invalid at {first}; fix it.") from exc
    unknown = sorted({r for r in table.resource_types.values() if r != FREE} - set(RULES))
    if unknown:
        raise ConfigError(
            f"price table {table_path} uses unknown pricing rules {', '.join(unknown)}; "
            f"use one of {', '.join(sorted(RULES))} or free."
        )
    return table


def estimate_plan(
    plan_json: dict[str, Any], table: PriceTable, environment: str = ""
) -> CostEstimate:
    """Price every resource of the plan as planned and as it is now (the prior state)."""
    planned = resources(plan_json, "after")
    current = resources(plan_json, "before")
    missing = sorted({r.type for r in planned + current} - set(table.resource_types))
    if missing:
        example = next(r.address for r in planned + current if r.type == missing[0])
        raise ConfigError(
            f"the price table {table.path} has no entry for resource type {missing[0]} "
            f"(e.g. {example}); add it under resource_types, as free if it costs nothing."
        )
    now = {r.address: r for r in current}
    lines = []
    for resource in planned:
        cost, detail = _price(resource, planned, table)
        before = now.pop(resource.address, None)
        was = _price(before, current, table)[0] if before else 0.0
        lines.append(
            CostLine(
                address=resource.address,
                type=resource.type,
                current_usd=round(was, 2),
                planned_usd=round(cost, 2),
                detail=detail,
            )
        )
    for address, gone in now.items():
        was, detail = _price(gone, current, table)
        lines.append(
            CostLine(
                address=address,
                type=gone.type,
                current_usd=round(was, 2),
                planned_usd=0.0,
                detail=f"destroyed ({detail})",
            )
        )
    return CostEstimate(
        environment=environment,
        table_date=table.date,
        region=table.region,
        currency=table.currency,
        lines=lines,
    )


Rule = Callable[[PlannedResource, list[PlannedResource], PriceTable], tuple[float, str]]


def _price(
    resource: PlannedResource, snapshot: list[PlannedResource], table: PriceTable
) -> tuple[float, str]:
    rule = table.resource_types[resource.type]
    if rule == FREE:
        return 0.0, "no charge of its own"
    return RULES[rule](resource, snapshot, table)


def _fargate_service(
    service: PlannedResource, snapshot: list[PlannedResource], table: PriceTable
) -> tuple[float, str]:
    tasks = [
        r
        for r in snapshot
        if r.type == "aws_ecs_task_definition" and service.refers_to(r, "task_definition")
    ]
    if not tasks:
        return 0.0, "task definition not in the plan"
    cpu = float(tasks[0].after.get("cpu") or 0) / 1024
    memory = float(tasks[0].after.get("memory") or 0) / 1024
    count = int(service.after.get("desired_count") or 0)
    p, hours = table.prices, table.hours_per_month
    cost = count * hours * (cpu * p["fargate_vcpu_hour"] + memory * p["fargate_gb_hour"])
    return cost, f"{count} x {cpu:g} vCPU / {memory:g} GB Fargate tasks, {hours:g} h"


def _alb(lb: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    p, u, hours = table.prices, table.usage, table.hours_per_month
    cost = hours * (p["alb_hour"] + u["alb_lcus"] * p["alb_lcu_hour"])
    return cost, f"{hours:g} ALB hours + {u['alb_lcus']:g} LCUs"


def _nat(nat: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    p, u, hours = table.prices, table.usage, table.hours_per_month
    cost = hours * p["nat_gateway_hour"] + u["nat_gateway_gb"] * p["nat_gateway_gb"]
    return cost, f"{hours:g} NAT hours + {u['nat_gateway_gb']:g} GB processed"


def _cloudfront(cdn: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    p, u = table.prices, table.usage
    cost = u["cloudfront_gb"] * p["cloudfront_gb"]
    cost += u["cloudfront_10k_requests"] * p["cloudfront_10k_https_requests"]
    return cost, f"{u['cloudfront_gb']:g} GB out + {u['cloudfront_10k_requests']:g}0k requests"


def _rds(db: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    klass = db.after.get("instance_class")
    hourly = table.prices["rds_instance_hour"].get(klass)
    if hourly is None:
        raise ConfigError(
            f"the price table {table.path} has no hourly price for RDS class {klass} "
            f"({db.address}); add it under prices.rds_instance_hour."
        )
    copies = 2 if db.after.get("multi_az") else 1
    storage = float(db.after.get("allocated_storage") or 0)
    kind = db.after.get("storage_type") or "gp2"
    storage_prices = table.prices["rds_storage_gb_month"]
    per_gb = storage_prices.get(kind, storage_prices["gp2"])
    cost = copies * (hourly * table.hours_per_month + storage * per_gb)
    az = "Multi-AZ" if copies == 2 else "single-AZ"
    return cost, f"{klass} {az} + {storage:g} GB {kind}"


def _backup_vault(vault: PlannedResource, snapshot: list[PlannedResource], table: PriceTable):
    databases = [r for r in snapshot if r.type == "aws_db_instance"]
    storage = sum(float(r.after.get("allocated_storage") or 0) for r in databases)
    stored = storage * table.usage["backup_size_factor"]
    return stored * table.prices["backup_storage_gb_month"], f"{stored:g} GB of recovery points"


def _s3(bucket: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    p, u = table.prices, table.usage
    cost = u["s3_bucket_gb"] * p["s3_standard_gb_month"]
    cost += u["s3_bucket_1k_puts"] * p["s3_1k_put_requests"]
    return cost, f"{u['s3_bucket_gb']:g} GB standard + {u['s3_bucket_1k_puts']:g}k PUTs"


def _kms(key: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    return table.prices["kms_key_month"], "1 customer-managed key"


def _log_group(group: PlannedResource, snapshot: list[PlannedResource], table: PriceTable):
    p, u = table.prices, table.usage
    cost = u["log_group_ingest_gb"] * p["cloudwatch_logs_ingest_gb"]
    cost += u["log_group_stored_gb"] * p["cloudwatch_logs_storage_gb_month"]
    return cost, f"{u['log_group_ingest_gb']:g} GB ingested, {u['log_group_stored_gb']:g} GB kept"


def _secret(secret: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    return table.prices["secretsmanager_secret_month"], "1 secret"


def _alarm(alarm: PlannedResource, snapshot: list[PlannedResource], table: PriceTable) -> tuple:
    return table.prices["cloudwatch_alarm_month"], "1 standard alarm"


RULES: dict[str, Rule] = {
    "fargate_service": _fargate_service,
    "alb": _alb,
    "nat_gateway": _nat,
    "cloudfront": _cloudfront,
    "rds_instance": _rds,
    "backup_vault": _backup_vault,
    "s3_bucket": _s3,
    "kms_key": _kms,
    "log_group": _log_group,
    "alarm": _alarm,
    "secret": _secret,
}
