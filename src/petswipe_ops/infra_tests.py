"""Infrastructure tests on each root's plan JSON: the seed's list of what the stack must be.

Each check reads the planned resources and returns sentences naming the resource address
that breaks it, so a failure says what to fix. The rego policies then judge the same plan
together with the environment's manifest (plan CPU/memory/replicas against the manifest,
network rules). This replaces Terratest's apply-and-probe with plan assertions: the roots
plan offline (see plan_workspace), so the tests need no AWS account.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from petswipe_ops import policy
from petswipe_ops.config import EnvironmentConfig, PlatformKind, available_environments
from petswipe_ops.config import load_environment as load_config
from petswipe_ops.cost import estimate_plan, load_price_table
from petswipe_ops.errors import OpsError
from petswipe_ops.manifest import build_manifest
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.plan_json import PlannedResource, of_type, resources, variable
from petswipe_ops.plan_workspace import PlannedRoot, plan_environment_root, plan_root

WORLD = {"0.0.0.0/0", "::/0"}
ALB_MARKERS = ("alb", "load balancer", "load-balancer", "loadbalancer")
MIN_ZONES = 2


class CheckResult(BaseModel):
    name: str
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


class RootReport(BaseModel):
    environment: str
    root: str
    resources: int
    checks: list[CheckResult]
    policy_violations: list[policy.Violation]

    @property
    def failures(self) -> list[str]:
        found = [f for c in self.checks for f in c.failures]
        return found + [f"[{v.policy}] {v.message}" for v in self.policy_violations]

    @property
    def passed(self) -> bool:
        return not self.failures


class InfraTestReport(BaseModel):
    roots: list[RootReport]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.roots)

    @property
    def failures(self) -> list[str]:
        return [f"{r.environment}: {f}" for r in self.roots for f in r.failures]

    def as_text(self) -> str:
        lines = []
        for root in self.roots:
            lines.append(f"{root.environment} ({root.root}): {root.resources} planned resources")
            for check in root.checks:
                mark = "ok  " if check.passed else "FAIL"
                lines.append(f"  {mark} {check.name}")
                lines += [f"       - {failure}" for failure in check.failures]
            mark = "ok  " if not root.policy_violations else "FAIL"
            lines.append(f"  {mark} rego policies on the plan and manifest")
            lines += [f"       - [{v.policy}] {v.message}" for v in root.policy_violations]
        total = sum(len(r.failures) for r in self.roots)
        lines.append("infra tests passed" if self.passed else f"infra tests failed: {total}")
        return "\n".join(lines)


def run_infra_tests(
    target: EnvironmentConfig | Path | None = None,
    *,
    environment: str | None = None,
    project: Path | None = None,
) -> InfraTestReport:
    """Plan and test one environment's root (a config), a root folder, or every AWS root.

    A root folder is judged as the environment named by `environment` (default: the
    folder's name), against that environment's manifest.
    """
    base = project or project_root()
    if isinstance(target, EnvironmentConfig):
        pairs = [(target, None)]
    elif isinstance(target, Path):
        config = load_config(environment or target.name, base)
        pairs = [(config, target)]
    else:
        configs = [load_config(name, base) for name in available_environments(base)]
        pairs = [(c, None) for c in configs if c.platform is PlatformKind.AWS]
        if not pairs:
            raise OpsError("no environment in deployments/ runs on AWS; nothing to plan.")
    return InfraTestReport(roots=[test_root(root, config, base) for config, root in pairs])


class InfraTestsFailed(OpsError):
    """A plan broke an infra test or a policy; the release's test stage stops on it."""

    exit_code = 1


def require_infra_tests(config: EnvironmentConfig, project: Path | None = None) -> dict[str, Any]:
    """The release's test stage: plan and test the environment's root, raise on any failure.

    Returns what the release record keeps: the root, how many resources and checks.
    """
    report = run_infra_tests(config, project=project)
    if not report.passed:
        failures = report.failures
        shown = "; ".join(failures[:5]) + (
            f"; and {len(failures) - 5} more" if len(failures) > 5 else ""
        )
        raise InfraTestsFailed(
            f"{len(failures)} infra tests failed on the plan: {shown}; fix the terraform or the "
            "environment file and run `make infra-test`."
        )
    root = report.roots[0]
    return {
        "infra_tests": f"{len(root.checks)} plan checks and the rego policies passed",
        "root": root.root,
        "planned_resources": root.resources,
    }


def test_root(root: Path | None, config: EnvironmentConfig, project: Path) -> RootReport:
    """Plan `root` (default: the environment's own) offline; every check and the policies."""
    return judge_plan(plan_environment(config, project, root), config, project)


def plan_environment(
    config: EnvironmentConfig, project: Path, root: Path | None = None
) -> PlannedRoot:
    """The offline plan of the environment's root (or of `root`), reused while its sources
    are unchanged."""
    if root is None:
        work = run_dir(config.environment) / "infra-tests" / config.environment
        return plan_environment_root(config, project, work)
    return plan_root(root, config, run_dir(config.environment) / "infra-tests" / _slug(root))


def judge_plan(planned: PlannedRoot, config: EnvironmentConfig, project: Path) -> RootReport:
    items = resources(planned.plan_json)
    checks = [
        CheckResult(name=name, failures=check(items, config)) for name, check in CHECKS.items()
    ]
    if config.platform is PlatformKind.LOCAL:
        # The sandbox root records versions and weights only: nothing for the AWS checks.
        checks = [CheckResult(name="no AWS resources in the local root's plan", failures=[])]
    violations = policy.evaluate(
        plan_policy_input(planned.plan_json, config, project), project / "policies"
    ).violations
    return RootReport(
        environment=config.environment,
        root=planned.root,
        resources=len(items),
        checks=checks,
        policy_violations=violations,
    )


def plan_policy_input(
    plan_json: dict[str, Any], config: EnvironmentConfig, project: Path
) -> dict[str, Any]:
    """The manifest of the planned release, its cost from the plan, and the plan's resources."""
    version = variable(plan_json, "release_version", "0.0.0")
    items = resources(plan_json)
    cost = None
    if items:
        cost = estimate_plan(plan_json, load_price_table(project)).monthly_total_usd
    manifest = build_manifest(config, version, monthly_cost_usd=cost)
    manifest["plan"] = {
        "resources": [
            # rego-cpp does not escape quotes in sprintf output: name module keys with '
            {"address": r.address.replace('"', "'"), "type": r.type, "values": r.after}
            for r in items
        ]
    }
    return manifest


def check_rds(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    databases = of_type(items, "aws_db_instance", "aws_rds_cluster")
    if not databases:
        return ["the plan has no aws_db_instance; the stack needs its PostgreSQL database"]
    failures = [
        f"{db.address} is not encrypted at rest; set storage_encrypted = true"
        for db in databases
        if db.after.get("storage_encrypted") is not True
    ]
    if config.environment == "production":
        failures += [
            f"{db.address} is not Multi-AZ in production; set multi_az = true"
            for db in databases
            if db.type == "aws_db_instance" and db.after.get("multi_az") is not True
        ]
    failures += [
        f"{db.address} is publicly accessible; set publicly_accessible = false"
        for db in databases
        if db.after.get("publicly_accessible") is True
    ]
    return failures


def check_ecs(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    services = of_type(items, "aws_ecs_service")
    tasks = of_type(items, "aws_ecs_task_definition")
    failures = []
    if not services:
        failures.append("the plan has no aws_ecs_service; the API needs its ECS service")
    if not tasks:
        failures.append("the plan has no aws_ecs_task_definition for the ECS service")
    for service in services:
        if not (service.after.get("cluster") or service.ref("cluster")):
            failures.append(f"{service.address} names no ECS cluster; set cluster")
        if service.after.get("launch_type") not in ("FARGATE", None):
            failures.append(f"{service.address} does not run on Fargate; set launch_type")
        breaker = service.after.get("deployment_circuit_breaker") or [{}]
        if not breaker[0].get("rollback"):
            failures.append(f"{service.address} has no circuit breaker rollback; enable it")
    return failures


def check_s3(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    buckets = of_type(items, "aws_s3_bucket")
    if not buckets:
        return ["the plan has no aws_s3_bucket; the stack keeps its assets and logs in S3"]
    failures = []
    for bucket in buckets:
        versioning = _companions(items, bucket, "aws_s3_bucket_versioning")
        if not any(_versioning_on(v) for v in versioning):
            failures.append(f"{bucket.address} is not versioned; add aws_s3_bucket_versioning")
        sse = "aws_s3_bucket_server_side_encryption_configuration"
        encryption = _companions(items, bucket, sse)
        if not encryption:
            failures.append(
                f"{bucket.address} has no default encryption; add "
                "aws_s3_bucket_server_side_encryption_configuration"
            )
        blocks = _companions(items, bucket, "aws_s3_bucket_public_access_block")
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls")
        flags += ("restrict_public_buckets",)
        if not any(all(b.after.get(f) is True for f in flags) for b in blocks):
            failures.append(
                f"{bucket.address} does not block public access; add "
                "aws_s3_bucket_public_access_block with all four settings true"
            )
    return failures


def check_kms(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    keys = of_type(items, "aws_kms_key")
    if not keys:
        return ["the plan has no aws_kms_key; the stack encrypts its data with its own key"]
    return [
        f"{key.address} does not rotate; set enable_key_rotation = true"
        for key in keys
        if key.after.get("enable_key_rotation") is not True
    ]


def check_log_groups(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    groups = of_type(items, "aws_cloudwatch_log_group")
    if not groups:
        return ["the plan has no aws_cloudwatch_log_group; the services need their logs"]
    return [
        f"{group.address} keeps its logs forever; set retention_in_days"
        for group in groups
        if not group.after.get("retention_in_days")
    ]


def check_autoscaling(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    targets = of_type(items, "aws_appautoscaling_target")
    policies = of_type(items, "aws_appautoscaling_policy")
    scheduled = of_type(items, "aws_appautoscaling_scheduled_action")
    failures = []
    serving = [s for s in of_type(items, "aws_ecs_service") if (s.after.get("desired_count") or 0)]
    for service in serving:
        name = service.after.get("name", "")
        stack = service.module_address.rsplit(".module.", 1)[0]
        matching = [
            t
            for t in targets
            if str(t.after.get("resource_id", "")).endswith(f"/{name}")
            # known only after apply (the cluster is created in the same run): same stack
            or ("resource_id" not in t.after and t.module_address.startswith(stack))
        ]
        if not matching:
            failures.append(
                f"{service.address} has no aws_appautoscaling_target; scale it with "
                "Application Auto Scaling"
            )
            continue
        target = matching[0]
        low, high = target.after.get("min_capacity") or 0, target.after.get("max_capacity") or 0
        if low < 1 or high < low:
            failures.append(f"{target.address} has min {low} and max {high}; keep 1 <= min <= max")
        mine = [p for p in policies if p.module_address == target.module_address]
        metrics = {
            spec.get("predefined_metric_type")
            for p in mine
            for conf in p.after.get("target_tracking_scaling_policy_configuration") or []
            for spec in conf.get("predefined_metric_specification") or []
        }
        wanted = {
            "ECSServiceAverageCPUUtilization",
            "ECSServiceAverageMemoryUtilization",
            "ALBRequestCountPerTarget",
        }
        if missing := sorted(wanted - metrics):
            failures.append(f"{target.address} has no target tracking on {', '.join(missing)}")
        if not any(p.after.get("policy_type") == "StepScaling" for p in mine):
            failures.append(f"{target.address} has no step scaling policy")
        if not [s for s in scheduled if s.module_address == target.module_address]:
            failures.append(f"{target.address} has no scheduled scaling action")
    return failures


def check_security_groups(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    """Only the load balancer's security group may take traffic from anywhere, and only on 443."""
    groups = of_type(items, "aws_security_group")
    balancers = of_type(items, "aws_lb", "aws_alb")
    failures = []
    for group in groups:
        for rule in group.after.get("ingress") or []:
            failures += _world_rule(group, rule, _is_alb_group(group, balancers))
    for rule in of_type(items, "aws_security_group_rule"):
        if rule.after.get("type") == "ingress":
            owner = [g for g in groups if rule.refers_to(g, "security_group_id")]
            alb = _marked_alb(rule.after) or any(_is_alb_group(g, balancers) for g in owner)
            failures += _world_rule(rule, rule.after, alb)
    for rule in of_type(items, "aws_vpc_security_group_ingress_rule"):
        owner = [g for g in groups if rule.refers_to(g, "security_group_id")]
        alb = _marked_alb(rule.after) or any(_is_alb_group(g, balancers) for g in owner)
        values = dict(rule.after)
        values["cidr_blocks"] = [values.get("cidr_ipv4")]
        values["ipv6_cidr_blocks"] = [values.get("cidr_ipv6")]
        values["protocol"] = values.get("ip_protocol")
        failures += _world_rule(rule, values, alb)
    return failures


def check_zones(items: list[PlannedResource], config: EnvironmentConfig) -> list[str]:
    """At least two availability zones: subnets in the plan, else the subnets it is given."""
    subnets = of_type(items, "aws_subnet")
    if subnets:
        zones = {_zone(s) for s in subnets}
        zones.discard(None)
        if len(zones) < MIN_ZONES:
            return [f"the plan's subnets span {len(zones)} availability zones; use at least 2"]
        return []
    failures = []
    for service in of_type(items, "aws_ecs_service"):
        network = (service.after.get("network_configuration") or [{}])[0]
        count = len(network.get("subnets") or [])
        if count < MIN_ZONES:
            failures.append(
                f"{service.address} runs in {count} subnet(s); give it subnets in at least "
                f"{MIN_ZONES} availability zones"
            )
    for group in of_type(items, "aws_db_subnet_group"):
        count = len(group.after.get("subnet_ids") or [])
        if count < MIN_ZONES:
            failures.append(
                f"{group.address} has {count} subnet(s); RDS needs subnets in at least "
                f"{MIN_ZONES} availability zones"
            )
    return failures


CHECKS: dict[str, Callable[[list[PlannedResource], EnvironmentConfig], list[str]]] = {
    "RDS encrypted (Multi-AZ in production)": check_rds,
    "ECS cluster and service": check_ecs,
    "S3 buckets encrypted, versioned, public access blocked": check_s3,
    "KMS key rotation": check_kms,
    "CloudWatch log groups with retention": check_log_groups,
    "auto-scaling configured": check_autoscaling,
    "security groups open to 0.0.0.0/0 only on the ALB's 443": check_security_groups,
    "high availability: at least 2 availability zones": check_zones,
}


def _zone(subnet: PlannedResource) -> str | None:
    return subnet.after.get("availability_zone") or subnet.after.get("availability_zone_id")


def _companions(items: list[PlannedResource], bucket: PlannedResource, kind: str) -> list:
    name = bucket.after.get("bucket")
    return [
        r
        for r in of_type(items, kind)
        if r.refers_to(bucket, "bucket") or (name and r.after.get("bucket") == name)
    ]


def _versioning_on(resource: PlannedResource) -> bool:
    config = resource.after.get("versioning_configuration") or [{}]
    return config[0].get("status") == "Enabled"


def _marked_alb(values: dict[str, Any]) -> bool:
    text = " ".join(
        str(values.get(k) or "") for k in ("name", "name_prefix", "description")
    ).lower()
    tags = values.get("tags") or {}
    return any(m in text for m in ALB_MARKERS) or str(tags.get("Role", "")).lower() == "alb"


def _is_alb_group(group: PlannedResource, balancers: list[PlannedResource]) -> bool:
    attached = any(b.refers_to(group, "security_groups") for b in balancers)
    return attached or _marked_alb(group.after)


def _world_rule(resource: PlannedResource, rule: dict[str, Any], alb: bool) -> list[str]:
    sources = set(rule.get("cidr_blocks") or []) | set(rule.get("ipv6_cidr_blocks") or [])
    open_to = sorted(sources & WORLD)
    if not open_to:
        return []
    low, high = rule.get("from_port"), rule.get("to_port")
    https_only = low == 443 and high == 443 and str(rule.get("protocol")) in ("tcp", "6")
    if alb and https_only:
        return []
    ports = f"port {low}" if low == high else f"ports {low}-{high}"
    who = "the load balancer's" if alb else "a non-load-balancer"
    return [
        f"{resource.address} opens {ports} to {', '.join(open_to)} ({who} security group); "
        "only the ALB's 443 may be open to the world"
    ]


def _slug(root: Path) -> str:
    return "-".join(root.resolve().parts[-3:]).replace(" ", "_")
