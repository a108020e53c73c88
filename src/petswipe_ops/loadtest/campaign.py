"""A load-test campaign: which scenarios, against what, and the record of what happened.

The flow orders these steps; everything here runs without Prefect, so the command
line, the tests and the benchmark use the same code.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from petswipe_ops import pipeline
from petswipe_ops.config import EnvironmentConfig, PlatformKind, load_environment
from petswipe_ops.errors import ConfigError, OpsError, SandboxError
from petswipe_ops.jsonfile import write_atomically
from petswipe_ops.k6 import k6_binary
from petswipe_ops.loadtest.history import ResultStore, ScenarioRun, compare
from petswipe_ops.loadtest.runner import K6Runner, Outcome
from petswipe_ops.paths import project_root, run_dir
from petswipe_ops.platform import open_platform
from petswipe_ops.release import Fault, FaultSpec, SemanticVersion, parse_parameters

SCENARIOS = ("smoke", "load", "stress", "spike", "soak")
ScenarioName = Literal["smoke", "load", "stress", "spike", "soak", "all"]
API_KEY_ENV = "PETSWIPE_API_KEY"


class CampaignFailed(OpsError):
    """A threshold failed, a run broke or a regression was found; the run ends Failed."""

    exit_code = 1


class CampaignRequest(BaseModel):
    """The campaign form: environment, scenarios in order, scale and tolerance."""

    model_config = ConfigDict(extra="forbid")

    environment: str = Field("local", description="deployments/<environment>.yaml")
    scenarios: list[ScenarioName] = Field(
        default_factory=lambda: ["smoke"],
        description="run in the order smoke, load, stress, spike, soak; 'all' for every one",
    )
    scale: float | None = Field(
        None, gt=0, le=10, description="duration factor; default: load_test.default_scale"
    )
    rate_scale: float | None = Field(
        None, gt=0, le=10, description="arrival-rate factor; default: load_test.rate_scale"
    )
    tolerance: float | None = Field(
        None, ge=0, le=10, description="p95 growth that is still fine; default from the config"
    )
    version: SemanticVersion | None = Field(
        None, description="local only: start this version as a candidate and test it directly"
    )
    fault: FaultSpec = Field(
        None, description="local only, with version: e.g. latency_ms=800 or error_rate=0.05"
    )

    @field_validator("scenarios")
    @classmethod
    def _some(cls, scenarios: list[str]) -> list[str]:
        if not scenarios:
            raise ValueError("name at least one scenario, or 'all'")
        return scenarios

    def scenario_list(self) -> list[str]:
        """The chosen scenarios in the campaign's fixed order, each once."""
        chosen = set(SCENARIOS) if "all" in self.scenarios else set(self.scenarios)
        return [s for s in SCENARIOS if s in chosen]


class Target(BaseModel):
    """Where the requests go and which version answers them."""

    base_url: str
    version: str
    role: Literal["router", "candidate"]
    note: str = ""


class CampaignRecord(BaseModel):
    campaign_id: str
    environment: str
    started_at: datetime
    finished_at: datetime | None = None
    scenarios: list[str]
    scale: float
    rate_scale: float
    target: Target | None = None
    runs: list[ScenarioRun] = Field(default_factory=list)
    stopped: str = ""
    chart_path: str = ""
    report_path: str = ""

    @property
    def regressions(self) -> list[ScenarioRun]:
        return [r for r in self.runs if r.regression and r.regression.flagged]

    @property
    def ok(self) -> bool:
        return (
            not self.stopped
            and len(self.runs) == len(self.scenarios)
            and all(r.passed for r in self.runs)
            and not self.regressions
        )

    def verdict(self) -> str:
        """One sentence: what passed, or what failed and why."""
        if self.ok:
            names = ", ".join(r.scenario for r in self.runs)
            version = self.target.version if self.target else "?"
            return f"load tests passed against {version}: {names}"
        problems = [f"{r.scenario}: {r.message}" for r in self.runs if not r.passed]
        problems += [
            f"{r.scenario} regression: {r.regression.sentence()}" for r in self.regressions
        ]
        if self.stopped and not problems:
            problems.append(self.stopped)
        return "load tests failed: " + "; ".join(problems)


def validate_request(raw: dict | CampaignRequest) -> CampaignRequest:
    return parse_parameters(CampaignRequest, raw, "load-test")


def guard(request: CampaignRequest) -> EnvironmentConfig:
    """Refuse a campaign that cannot run, before anything starts."""
    config = load_environment(request.environment, project_root())
    if config.platform is not PlatformKind.LOCAL and (request.version or request.fault):
        raise ConfigError(
            "a candidate version and faults exist only on the local sandbox; on AWS, load "
            "test the listener without --version and --fault, or release the version first."
        )
    if request.fault and not request.version:
        raise ConfigError(
            "a fault is injected into a candidate; name its version too, "
            "e.g. --version 9.9.9 --fault latency_ms=800."
        )
    open_platform(config)
    k6_binary()
    return config


def results_store(environment: str) -> ResultStore:
    return ResultStore(run_dir(environment) / "load_tests" / "results")


def campaigns_dir(environment: str) -> Path:
    return run_dir(environment) / "load_tests" / "campaigns"


def start_record(config: EnvironmentConfig, request: CampaignRequest) -> CampaignRecord:
    now = datetime.now(UTC)
    record = CampaignRecord(
        campaign_id=f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
        environment=config.environment,
        started_at=now,
        scenarios=request.scenario_list(),
        scale=request.scale or config.load_test.default_scale,
        rate_scale=request.rate_scale or config.load_test.rate_scale,
    )
    save_record(record)
    return record


def save_record(record: CampaignRecord) -> Path:
    path = campaigns_dir(record.environment) / f"{record.campaign_id}.json"
    write_atomically(path, record)
    return path


def all_records(environment: str) -> list[CampaignRecord]:
    folder = campaigns_dir(environment)
    if not folder.is_dir():
        return []
    records = [CampaignRecord.model_validate_json(p.read_text()) for p in folder.glob("*.json")]
    return sorted(records, key=lambda r: r.started_at)


@contextmanager
def open_target(
    config: EnvironmentConfig, request: CampaignRequest, notify: Callable[[str], None]
) -> Iterator[Target]:
    """The router of a running sandbox (started if needed), or a candidate started for
    the campaign, held under the environment's release lock and stopped afterwards."""
    sandbox = open_platform(config)
    before = sandbox.services.instance("stable")
    status = sandbox.up()
    router = status.router_url
    if before is None:
        notify(f"the {config.environment} sandbox was not running; started it at {router}")
    stable = sandbox.services.instance("stable")
    if stable is None:
        raise SandboxError(f"the {config.environment} sandbox has no stable version running.")
    if request.version is None:
        candidate = sandbox.services.instance("candidate")
        weights = sandbox.router.get_weights()
        note = ""
        if candidate is not None and weights.candidate > 0:
            note = f"candidate {candidate.version} takes {weights.candidate} % of the traffic"
        yield Target(base_url=router, version=stable.version, role="router", note=note)
        return
    with pipeline.release_lock(config, f"load test of {request.version}"):
        leftover = sandbox.services.instance("candidate")
        if leftover is not None:
            raise SandboxError(
                f"candidate {leftover.version} is still running from an earlier release; "
                "release again or run `make sandbox-down` first."
            )
        fault = Fault.parse(request.fault)
        candidate = sandbox.services.start(request.version, "candidate", fault.as_env())
        notify(
            f"started candidate {request.version} at {candidate.endpoint} "
            f"(fault: {fault}); it takes no router traffic and stops after the campaign"
        )
        try:
            yield Target(
                base_url=candidate.endpoint,
                version=request.version,
                role="candidate",
                note=f"fault {fault}" if str(fault) != "none" else "",
            )
        finally:
            sandbox.services.stop(candidate)


def api_key(environ: dict[str, str]) -> SecretStr | None:
    """The service's API key, from the environment (never a parameter or a log line)."""
    value = environ.get(API_KEY_ENV, "")
    return SecretStr(value) if value else None


def script_path(scenario: str) -> Path:
    return project_root() / "load_tests" / f"{scenario}.js"


def run_scenario(
    config: EnvironmentConfig,
    record: CampaignRecord,
    target: Target,
    scenario: str,
    *,
    key: SecretStr | None = None,
    tolerance: float | None = None,
    on_line: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> ScenarioRun:
    """Run one scenario, store it, and compare it with its baseline."""
    store = results_store(config.environment)
    started = datetime.now(UTC)
    stamp = f"{started:%Y%m%dT%H%M%S}"
    work = store.directory.parent / "work"
    runner = K6Runner(
        script_path(scenario),
        env={
            "BASE_URL": target.base_url,
            "SCALE": f"{record.scale:g}",
            "RATE_SCALE": f"{record.rate_scale:g}",
            "MAX_VUS": str(config.load_test.max_vus),
        },
        secrets={"API_KEY": key} if key else {},
        summary_path=work / f"{record.campaign_id}-{scenario}.json",
        log_path=run_dir(config.environment) / "logs" / f"k6-{scenario}-{stamp}.log",
        on_line=on_line,
        cancel=cancel,
    )
    result = runner.run()
    Path(runner.summary_path).unlink(missing_ok=True)
    run = ScenarioRun(
        scenario=scenario,
        environment=config.environment,
        version=target.version,
        target=target.base_url,
        started_at=started,
        scale=record.scale,
        rate_scale=record.rate_scale,
        outcome=result.outcome,
        exit_code=result.exit_code,
        message=result.message,
        aborted=result.aborted,
        summary=result.summary,
        wall_seconds=result.wall_seconds,
        log_path=result.log_path,
    )
    if run.outcome is not Outcome.CANCELLED and run.summary and run.summary.latency:
        baseline = store.baseline(run)
        if baseline is not None:
            settings = config.load_test
            if tolerance is not None:
                settings = settings.model_copy(update={"p95_tolerance": tolerance})
            run.regression = compare(run, baseline, settings)
    store.save(run)
    return run


def prune(config: EnvironmentConfig) -> int:
    """Apply the environment's results retention; returns how many runs were removed."""
    return len(results_store(config.environment).prune(config.load_test.retention_days))
