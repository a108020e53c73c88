"""One release as a state machine: it owns the release record and the platform.

Each stage is a method. Side effects are journaled before (intent) and after (done),
so any process can pick an unfinished release up from its record and the platform's
real state. The run alone decides whether a failure needs a rollback and what the
outcome is; the Prefect flow only orders the stages, pauses for people and wires
interruptions (cancel, crash, SIGINT, SIGTERM) to `abort`, which is idempotent.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr

from petswipe_ops import pipeline, reconcile
from petswipe_ops.canary import StepResult, run_step
from petswipe_ops.cdn.invalidation import invalidate_release_paths
from petswipe_ops.config import EnvironmentConfig
from petswipe_ops.errors import ConfigError, OpsError
from petswipe_ops.gates import GateDecision, Verdict, build_gate
from petswipe_ops.holds import hold
from petswipe_ops.migrations import MigrationStep
from petswipe_ops.notify.rollback import notify_rollback
from petswipe_ops.paths import run_dir
from petswipe_ops.platform import open_platform
from petswipe_ops.platform.seams import Platform, Traffic, VersionInstance, Weights
from petswipe_ops.policy import PolicyReport
from petswipe_ops.record import (
    DecisionVerdict,
    Effect,
    Outcome,
    Phase,
    ReleaseLedger,
    ReleaseRecord,
    StageRecord,
)
from petswipe_ops.release import Fault, ReleaseRequest
from petswipe_ops.report import render_summary


class ReleaseResult(BaseModel):
    """What a release ended with: the flow returns it and the CLI prints it."""

    model_config = ConfigDict(frozen=True)

    release_id: str
    environment: str
    version: str
    outcome: Outcome
    reason: str
    weights: Weights | None = None
    summary: str

    @property
    def promoted(self) -> bool:
        return self.outcome is Outcome.PROMOTED

    @classmethod
    def of(cls, record: ReleaseRecord) -> ReleaseResult:
        return cls(
            release_id=record.release_id,
            environment=record.environment,
            version=record.version,
            outcome=record.outcome,
            reason=record.reason,
            weights=Weights(**record.final_weights) if record.final_weights else None,
            summary=render_summary(record),
        )


class ReleaseNotPromoted(OpsError):
    """A release that ended refused or rolled back; carries its result for the caller."""

    exit_code = 1

    def __init__(self, result: ReleaseResult) -> None:
        super().__init__(result.reason)
        self.result = result


class ApprovalAnswer(BaseModel):
    """A person's (or the configuration's) answer to "may this release go on?"."""

    approve: bool
    approver: str
    reason: str = ""


class ApprovalEvidence(BaseModel):
    approver: str
    reason: str
    plan: str = ""


class RouterEvidence(BaseModel):
    stable: int
    candidate: int


class ReleaseTools(Protocol):
    """Terraform, policies, migrations and backups: what a release runs besides traffic."""

    def infra_tests(self, config: EnvironmentConfig) -> dict[str, Any]: ...

    def plan(
        self, config: EnvironmentConfig, version: str, stable: str, plan_file: Any
    ) -> pipeline.PlannedChange: ...

    def apply(self, config: EnvironmentConfig, plan_file: Any) -> dict[str, Any]: ...

    def check_policies(self, config: EnvironmentConfig, version: str) -> PolicyReport: ...

    def backup(self, config: EnvironmentConfig, key: SecretStr | None) -> dict[str, Any]: ...

    def migrate(
        self, platform: Platform, on_step: Callable[[MigrationStep], None]
    ) -> list[MigrationStep]: ...


class ReleaseRefused(OpsError):
    """The release cannot start as asked; nothing was changed."""


class ReleaseRun:
    """The state machine of one release of one version to one environment."""

    def __init__(
        self,
        config: EnvironmentConfig,
        release_id: str,
        *,
        platform: Platform | None = None,
        tools: ReleaseTools | None = None,
        book: ReleaseLedger | None = None,
    ) -> None:
        self.config = config
        self.release_id = release_id
        self.platform = platform or open_platform(config)
        # A platform may bring its own (the AWS root's terraform, RDS snapshots).
        own = getattr(self.platform, "release_tools", None)
        self.tools = tools or own or pipeline.PipelineTools()
        self.book = book or pipeline.ledger(config.environment)
        self.run_dir = run_dir(config.environment)

    @classmethod
    def begin(
        cls,
        config: EnvironmentConfig,
        request: ReleaseRequest,
        *,
        flow_run_id: str | None = None,
        platform: Platform | None = None,
        tools: ReleaseTools | None = None,
        book: ReleaseLedger | None = None,
    ) -> ReleaseRun:
        """Check the request against the environment's rules and its error budget, then open
        its record; a spent budget (without an override reason) refuses it here."""
        check_approval_rules(config, request)
        budget = pipeline.release_budget(config, request)
        book = book or pipeline.ledger(config.environment)
        record = book.create(config.environment, request.version, str(request.fault or "none"))
        book.update(
            record.release_id, flow_run_id=flow_run_id, budget_remaining=budget.budget_remaining
        )
        run = cls(config, record.release_id, platform=platform, tools=tools, book=book)
        run._decide("budget", DecisionVerdict.ALLOW, budget.note, budget)
        return run

    @property
    def budget_remaining(self) -> float | None:
        """The error budget left that the gate tightens on (None: unknown, untightened)."""
        return self.record.budget_remaining

    @property
    def record(self) -> ReleaseRecord:
        return self.book.load(self.release_id)

    @property
    def version(self) -> str:
        return self.record.version

    # -- bookkeeping ---------------------------------------------------------------

    @contextmanager
    def _stage(self, name: str) -> Iterator[StageRecord]:
        with self.book.stage(self.release_id, name) as stage:
            yield stage
        hold(f"stage:{name}:done", self.run_dir)

    @contextmanager
    def _effect(self, effect: Effect, **detail: Any) -> Iterator[None]:
        """Journal the intent, cause the effect, journal that it is done."""
        self.book.journal(self.release_id, effect, Phase.INTENT, detail)
        hold(f"{effect.value}:intent", self.run_dir)
        yield
        self.book.journal(self.release_id, effect, Phase.DONE, detail)
        hold(f"{effect.value}:done", self.run_dir)

    def _decide(
        self, stage: str, verdict: DecisionVerdict, reason: str, evidence: BaseModel | dict
    ) -> None:
        data = evidence.model_dump() if isinstance(evidence, BaseModel) else evidence
        self.book.decide(self.release_id, stage, verdict, reason, data)

    # -- stages --------------------------------------------------------------------

    def prepare(self) -> str:
        """Converge what earlier runs left, start the sandbox if needed; the stable version."""
        with self._stage("prepare") as stage:
            convergence, finished = reconcile.settle(self.platform, self.book, self.release_id)
            self.platform.up()
            stable = self.platform.services.instance("stable")
            stable_version = stable.version if stable else "none"
            stage.summary = f"stable {stable_version} serving"
            if finished:
                names = ", ".join(r.release_id for r in finished)
                stage.summary += f"; finished {names}: {convergence.sentence()}"
        self.book.update(self.release_id, stable_version=stable_version)
        return stable_version

    def infra_tests(self) -> dict[str, Any]:
        with self._stage("test") as stage:
            result = self.tools.infra_tests(self.config)
            stage.summary = f"{result['terraform']}; {result['policy_tests']} policy tests passed"
            stage.details = result
        return result

    def plan(self) -> pipeline.PlannedChange:
        with self._stage("plan") as stage:
            record = self.record
            planned = self.tools.plan(
                self.config,
                record.version,
                record.stable_version or "none",
                pipeline.plan_file(self.config.environment, self.release_id),
            )
            stage.summary = planned.headline()
            stage.details = planned.summary.model_dump()
        return planned

    def check_policies(self) -> PolicyReport:
        with self._stage("policy") as stage:
            try:
                report = self.tools.check_policies(self.config, self.version)
            except OpsError as exc:
                self._decide("policy", DecisionVerdict.DENY, str(exc), {})
                raise
            stage.summary = f"{len(report.policies)} policy packages allow the deployment"
        self._decide("policy", DecisionVerdict.ALLOW, stage.summary, {"policies": report.policies})
        return report

    def approve_automatically(self, request: ReleaseRequest) -> bool:
        """Settle approval without a person where the environment allows it; True if settled."""
        approval = self.config.approval
        if approval.required and not request.auto_approve:
            return False
        with self._stage("approve") as stage:
            if approval.required:
                reason = f"auto-approved by {request.requested_by or getpass.getuser()}"
            else:
                reason = f"deployments/{self.config.environment}.yaml requires no approval"
            stage.summary = reason
        approver = request.requested_by or getpass.getuser()
        self._decide(
            "approve",
            DecisionVerdict.APPROVED,
            reason,
            ApprovalEvidence(approver=approver, reason=reason),
        )
        return True

    def record_approval(self, answer: ApprovalAnswer, plan: str) -> None:
        """Keep a person's answer with who gave it; a rejection ends the release."""
        verdict = DecisionVerdict.APPROVED if answer.approve else DecisionVerdict.REJECTED
        reason = answer.reason or verdict.value
        with self._stage("approve") as stage:
            stage.summary = f"{verdict.value} by {answer.approver or 'nobody'}: {reason}"
            if not answer.approve:
                stage.status = "failed"
        self._decide(
            "approve",
            verdict,
            reason,
            ApprovalEvidence(approver=answer.approver, reason=reason, plan=plan),
        )
        if not answer.approve:
            by = f" (by {answer.approver})" if answer.approver else ""
            raise pipeline.ReleaseFailed(
                f"rejected at approval: {answer.reason or 'no reason given'}{by}"
            )

    def apply(self, planned: pipeline.PlannedChange) -> dict[str, Any]:
        with self._stage("apply") as stage, self._effect(Effect.APPLY, plan=planned.plan_file):
            outputs = self.tools.apply(self.config, planned.plan_file)
            stage.summary = f"applied the saved plan {planned.plan_file.rsplit('/', 1)[-1]}"
            stage.details = {"outputs": outputs}
        return outputs

    def backup(self, key: SecretStr | None) -> str | None:
        """Back up the database when the environment asks for it, or always where the tools
        snapshot before migrating (RDS: no key needed); the id goes in the record."""
        always = getattr(self.tools, "snapshots_before_migration", False)
        if not always and (not self.config.backup.before_migration or key is None):
            return None
        with self._stage("backup") as stage, self._effect(Effect.BACKUP):
            taken = self.tools.backup(self.config, key)
            stage.summary = f"backup {taken['backup_id']} ({taken['tier']}) taken before migrating"
            stage.details = taken
        self._decide("backup", DecisionVerdict.TAKEN, stage.summary, taken)
        return taken["backup_id"]

    def migrate(self, on_step: Callable[[MigrationStep], None] = lambda step: None) -> None:
        with self._stage("migrate") as stage, self._effect(Effect.MIGRATE):
            steps = self.tools.migrate(self.platform, on_step)
            stage.summary = (
                f"applied {', '.join(s.revision for s in steps)}"
                if steps
                else "schema already at head"
            )
            stage.details = {"steps": [s.model_dump(mode="json") for s in steps]}

    def start_candidate(self, fault: str | None = None) -> VersionInstance:
        """Start the candidate, check its health, attach it to the router at weight 0."""
        services, router = self.platform.services, self.platform.router
        with (
            self._stage("candidate") as stage,
            self._effect(Effect.START_CANDIDATE, version=self.version),
        ):
            existing = services.instance("candidate")
            if existing is not None:
                router.detach_candidate()
                services.stop(existing)
            candidate = services.start(self.version, "candidate", Fault.parse(fault).as_env())
            if not services.healthy(candidate):
                raise pipeline.ReleaseFailed(f"candidate {self.version} failed its health check.")
            router.attach_candidate(candidate)
            stage.summary = f"{candidate.version} healthy at {candidate.endpoint}, weight 0"
        return candidate

    def canary_step(
        self,
        candidate: VersionInstance,
        weight: int,
        traffic: Traffic,
        *,
        on_observation: Callable[[GateDecision, float], None] = lambda decision, elapsed: None,
        on_read_error: Callable[[Exception, int], None] = lambda exc, failures: None,
        should_stop: Callable[[], None] = lambda: None,
    ) -> StepResult:
        """Shift `weight` % to the candidate and observe until the gate decides."""
        stable = self.platform.services.instance("stable")
        if stable is None:
            raise pipeline.ReleaseFailed(
                "the stable version is not running; start it with `make sandbox-up`."
            )

        def alive() -> None:
            should_stop()
            traffic.check_running()

        with (
            self._stage(f"canary {weight}%") as stage,
            self._effect(Effect.SHIFT_TRAFFIC, weight=weight),
        ):
            result = run_step(
                weight=weight,
                router=self.platform.router,
                metrics=self.platform.metrics,
                candidate=candidate,
                stable=stable,
                gate=build_gate(self.config.canary, self.budget_remaining),
                canary=self.config.canary,
                slo=self.config.slo,
                on_observation=on_observation,
                traffic_alive=alive,
                on_read_error=on_read_error,
            )
            evidence = {
                **result.decision.evidence,
                "weight": weight,
                "router": result.router_weights.model_dump(),
                "observations": result.observations,
            }
            self._decide(
                "canary", DecisionVerdict(result.verdict.value), result.decision.reason, evidence
            )
            stage.summary = f"{result.verdict.value}: {result.decision.reason}"
            if result.verdict is not Verdict.PROMOTE:
                stage.status = "failed"
        return result

    def keep_observing(self, answer: ApprovalAnswer, question: str) -> None:
        """A person's answer to a step that saw too little traffic: observe again or stop."""
        verdict = DecisionVerdict.CONTINUE if answer.approve else DecisionVerdict.ROLLBACK
        self._decide(
            "canary-timeout",
            verdict,
            answer.reason or question,
            ApprovalEvidence(approver=answer.approver, reason=answer.reason or question),
        )
        if not answer.approve:
            raise pipeline.ReleaseFailed(
                f"stopped by {answer.approver}: {answer.reason or question}"
            )

    def finalize(self, candidate: VersionInstance) -> Weights:
        """Make the candidate the stable version, in an order that serves users throughout.

        1. candidate 100 %: only the candidate serves;
        2. the stable side is pointed at the candidate, then takes 100 %: both sides now
           send to the candidate, so the switch is invisible to users;
        3. the old stable, which no side sends to any more, is stopped and the candidate
           is recorded as stable.
        A kill anywhere leaves the router on a live version; reconcile finishes the job.
        """
        router, services = self.platform.router, self.platform.services
        old = services.instance("stable")
        with self._stage("finalize") as stage:
            with self._effect(
                Effect.SWITCH_STABLE,
                candidate=candidate.endpoint,
                old_stable=old.endpoint if old else None,
            ):
                router.set_candidate_weight(100)
                router.point_stable(candidate)
                router.detach_candidate()
            with self._effect(Effect.RETIRE_OLD_STABLE):
                if old is not None and old.handle != candidate.handle:
                    services.stop(old)
                services.rename(candidate, "stable")
            weights = router.get_weights()
            stage.summary = f"{candidate.version} is stable; previous version stopped"
            invalidated = invalidate_release_paths(self.config)
            if invalidated is not None:
                stage.summary += f"; edge cache invalidated: {', '.join(invalidated.paths)}"
        self._decide(
            "finalize",
            DecisionVerdict.PROMOTE,
            stage.summary,
            {"router": RouterEvidence(**weights.model_dump()).model_dump()},
        )
        self.book.finish(
            self.release_id,
            Outcome.PROMOTED,
            f"{candidate.version} promoted to 100 %",
            weights.model_dump(),
        )
        return weights

    def rollback(self, cause: str) -> reconcile.Convergence:
        """Converge the platform from its real state; safe to run any number of times."""
        with self._stage("rollback") as stage, self._effect(Effect.ROLLBACK, cause=cause):
            convergence = reconcile.converge(self.platform)
            stage.summary = (
                f"{convergence.sentence()}; schema kept (migrations are backward compatible, "
                "`make db-rollback` downgrades)"
            )
        verdict = (
            DecisionVerdict.PROMOTE
            if convergence.direction is reconcile.Direction.ROLLED_FORWARD
            else DecisionVerdict.ROLLBACK
        )
        router = convergence.weights.model_dump() if convergence.weights else {}
        self._decide("rollback", verdict, cause, {"router": router})
        return convergence

    # -- endings -------------------------------------------------------------------

    @property
    def needs_rollback(self) -> bool:
        """Whether a failure now must be undone: something changed, or a person was asked."""
        record = self.record
        return record.changed_anything or record.stage("approve") is not None

    def abort(self, cause: str) -> ReleaseResult:
        """End the release because of `cause` (a failure, a rejection, an interruption).

        Refused when nothing changed; otherwise converged from the platform's real
        state: rolled back, or promoted if finalize had already switched the router.
        A finished record is left as it is, so calling this twice is harmless.
        """
        record = self.record
        if record.outcome is not Outcome.RUNNING:
            return ReleaseResult.of(record)
        if not self.needs_rollback:
            done = self.book.finish(
                self.release_id, Outcome.REFUSED, f"refused before any change: {cause}"
            )
            return ReleaseResult.of(done)
        convergence = self.rollback(cause)
        weights = convergence.weights.model_dump() if convergence.weights else None
        if (
            convergence.direction is reconcile.Direction.ROLLED_FORWARD
            and convergence.stable is not None
            and convergence.stable.version == record.version
        ):
            outcome, reason = Outcome.PROMOTED, f"{record.version} promoted to 100 % ({cause})"
        else:
            outcome, reason = Outcome.ROLLED_BACK, f"rolled back: {cause}"
        finished = self.book.finish(self.release_id, outcome, reason, weights)
        if outcome is Outcome.ROLLED_BACK:
            self._notify_rollback(reason)
        return ReleaseResult.of(finished)

    def _notify_rollback(self, reason: str) -> None:
        """Tell the team (Slack, SNS) why; a channel that fails is kept in the record."""
        deliveries = notify_rollback(
            self.config, release_id=self.release_id, version=self.version, reason=reason
        )
        self._decide(
            "notify",
            DecisionVerdict.TAKEN,
            "; ".join(f"{d.channel}: {'sent' if d.delivered else d.detail}" for d in deliveries),
            {"deliveries": [d.model_dump(mode="json") for d in deliveries]},
        )

    def result(self) -> ReleaseResult:
        return ReleaseResult.of(self.record)


def check_approval_rules(config: EnvironmentConfig, request: ReleaseRequest) -> None:
    """Auto-approval only where the environment's file allows it."""
    approval = config.approval
    if approval.required and request.auto_approve and not approval.allow_auto:
        raise ConfigError(
            f"releases to '{config.environment}' need a person's approval "
            f"(approval.allow_auto is false in deployments/{config.environment}.yaml); "
            "drop auto-approve and answer the approval form."
        )
