"""The deployments as a user runs them: a real `prefect server start` on loopback, two
process workers, `prefect --no-prompt deploy --all`, releases triggered with
`prefect deployment run ... --watch` (scripts/ci-release.sh), answered with `make approve`,
and looked at in the UI through headless Chromium."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import REPO
from tests.fixtures.prefect_server import WORKERS

pytestmark = pytest.mark.integration

RELEASE_TIMEOUT_S = 300
PAST_THE_LEASE_S = 90
"""Past the slot's 60 s lease (Prefect's shortest, renewed every 45 s) and the server's next
repossession of expired leases (every 15 s), with time for a waiting release to take a
lapsed slot: a paused release still holding the slot then holds it only by a renewal."""


def ci_release(deployed, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(REPO / "scripts" / "ci-release.sh"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=deployed.env(),
    )


def run_id_of(output: str) -> str:
    return next(line.split("UUID: ")[1].strip() for line in output.splitlines() if "UUID: " in line)


@pytest.fixture(scope="module")
def two_releases(deployed):
    """A healthy and a faulty version sent to release/local at the same moment, from CI."""
    healthy = ci_release(deployed, "local", "1.1.0", "--auto-approve")
    faulty = ci_release(deployed, "local", "1.2.0", "--auto-approve", "--fault", "error_rate=0.05")
    outputs = {}
    for name, process in (("healthy", healthy), ("faulty", faulty)):
        stdout, stderr = process.communicate(timeout=2 * RELEASE_TIMEOUT_S)
        outputs[name] = (process.returncode, stdout, stderr)
    return outputs


def test_deploy_all_registers_a_release_deployment_per_environment(deployed):
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    for entry in spec["deployments"]:
        flow = entry["entrypoint"].rsplit(":", 1)[1].replace("_", "-")
        found = deployed.api("GET", f"/deployments/name/{flow}/{entry['name']}")
        assert found["work_pool_name"] == "local-process"
        assert found["enforce_parameter_schema"] is True
        assert found["parameters"] == entry.get("parameters", {})
        crons = sorted(
            (s["schedule"]["cron"], s["schedule"]["timezone"], s["parameters"])
            for s in found["schedules"]
        )
        expected = sorted(
            (s["cron"], s.get("timezone", "UTC"), s.get("parameters", {}))
            for s in entry.get("schedules") or []
        )
        assert crons == expected, f"{flow}/{entry['name']}"

    for environment in ("local", "staging", "production"):
        found = deployed.api("GET", f"/deployments/name/release/{environment}")
        assert found["schedules"] == [], "releases are triggered, never scheduled"
        assert found["global_concurrency_limit"] is None, "the flow's release-<env> limit rules"
        schema = found["parameter_openapi_schema"]
        assert schema["required"] == ["request"]
        form = schema["definitions"]["ReleaseRequest"]
        assert set(form["properties"]) == {
            "environment",
            "version",
            "auto_approve",
            "fault",
            "error_budget_remaining",
            "budget_override_reason",
            "requested_by",
        }
        assert form["required"] == ["version"]


def test_ci_release_exits_with_the_releases_outcome(deployed, two_releases):
    code, stdout, stderr = two_releases["healthy"]
    assert code == 0, stdout[-2000:] + stderr[-2000:]
    assert "PROMOTED (10% promote → 50% promote → 100% promote)" in stdout
    healthy = deployed.flow_run(run_id_of(stdout))
    assert (healthy["state_type"], healthy["name"]) == ("COMPLETED", "release-local-1.1.0")

    code, stdout, stderr = two_releases["faulty"]
    assert code == 1, stdout[-2000:] + stderr[-2000:]
    assert "ROLLED BACK (10% rollback)" in stderr
    faulty = deployed.flow_run(run_id_of(stdout))
    assert faulty["state_type"] == "FAILED"
    assert faulty["state"]["message"].startswith("rolled back: canary gate at 10%: error rate")


def test_two_releases_to_one_environment_never_run_at_once(deployed, two_releases):
    first, second = sorted(
        deployed.release_work(run_id_of(out[1])) for out in two_releases.values()
    )
    assert first[1] <= second[0], f"release work {first} overlaps {second}"


def test_a_release_paused_past_its_lease_is_approved_and_the_queued_one_follows(deployed):
    """The paused release keeps `release-local` past its 60 s lease, by renewing it; a
    second release queued meanwhile waits, Running, and follows it (a faulty one, so it
    ends at its first step)."""
    first = deployed.run_deployment(
        "release/local", {"environment": "local", "version": "1.3.0", "auto_approve": False}
    )
    paused_at = datetime.fromisoformat(deployed.paused(first)["state"]["timestamp"])
    queued = deployed.run_deployment(
        "release/local",
        {
            "environment": "local",
            "version": "1.4.0",
            "auto_approve": True,
            "fault": "error_rate=0.05",
        },
    )
    time.sleep(max(0.0, PAST_THE_LEASE_S - (datetime.now(UTC) - paused_at).total_seconds()))

    assert deployed.flow_run(first)["state_type"] == "PAUSED"
    assert deployed.flow_run(queued)["state_type"] == "RUNNING", "waiting for release-local"
    answer = deployed.approve(first, "REASON=CHG-42")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert answer.stdout.splitlines()[-1].startswith("approved release-local-1.3.0")

    first_run, queued_run = deployed.finished(first), deployed.finished(queued)
    assert first_run["state_type"] == "COMPLETED", first_run["state"]["message"]
    assert queued_run["state_type"] == "FAILED", queued_run["state"]["message"]
    assert queued_run["state"]["message"].startswith("rolled back: canary gate at 10%: error rate")
    assert deployed.release_work(first)[1] <= deployed.release_work(queued)[0]


def test_approving_a_run_that_is_not_paused_is_one_sentence(deployed, two_releases):
    run_id = run_id_of(two_releases["healthy"][1])
    answer = deployed.approve(run_id)
    assert answer.returncode == 2
    assert answer.stderr.splitlines()[0] == (
        "error: flow run release-local-1.1.0 is Completed, not waiting for approval."
    )


@pytest.fixture(scope="module")
def busy_local(deployed):
    """With local set to cancel-new in its config: one release paused for approval, then
    a staging release and a second local release from CI while it waits, then the paused
    one rejected with `make approve REJECT=1`."""
    deployed.project.edit("local", lambda d: d["release"].update(collision_strategy="cancel-new"))

    holder = deployed.run_deployment(
        "release/local", {"environment": "local", "version": "1.5.0", "auto_approve": False}
    )
    deployed.paused(holder)
    staging = deployed.run_deployment(
        "release/staging", {"environment": "staging", "version": "1.5.0", "auto_approve": True}
    )
    deployed.finished(staging)
    second = ci_release(deployed, "local", "1.6.0", "--auto-approve")
    stdout, stderr = second.communicate(timeout=RELEASE_TIMEOUT_S)
    rejected = deployed.approve(holder, "REJECT=1", "REASON=CHG-43 failed review")
    deployed.finished(holder)
    return {
        "holder": holder,
        "staging": staging,
        "second": (second.returncode, stdout, stderr),
        "rejected": rejected,
    }


def test_paused_release_rejected_with_make_approve_ends_with_the_reason(deployed, busy_local):
    assert busy_local["rejected"].returncode == 0, busy_local["rejected"].stderr
    run = deployed.flow_run(busy_local["holder"])
    assert run["state_type"] == "FAILED"
    assert run["state"]["message"].startswith(
        "rolled back: rejected at approval: CHG-43 failed review (by "
    ), "the reason and who gave it"


def test_cancel_new_refuses_a_second_release_naming_the_paused_one(deployed, busy_local):
    """The paused run keeps `release-local`, so the second release is refused by the
    flow, naming the paused one."""
    code, stdout, stderr = busy_local["second"]
    assert code == 1, stdout + stderr
    sentence = (
        f"environment 'local' is busy with release release-local-1.5.0 "
        f"(flow run {busy_local['holder']}); wait for it to finish."
    )
    assert deployed.flow_run(run_id_of(stdout))["state"]["message"] == sentence
    assert sentence in stderr


def test_two_workers_both_pick_up_runs(deployed, busy_local):
    """Each worker runs one flow at a time (--limit 1): the release paused for approval
    keeps its worker busy, so the staging run meanwhile is picked up by the other one."""
    staging = deployed.flow_run(busy_local["staging"])
    assert staging["state_type"] == "FAILED" and "staging" in staging["state"]["message"]
    workers = {deployed.worker_of(busy_local["holder"]), deployed.worker_of(busy_local["staging"])}
    assert workers == set(WORKERS)


BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


SHOTS = REPO / "test-artifacts"


def test_the_ui_shows_the_release_and_its_report(deployed, two_releases, browser_page):
    """Whatever the release's outcome (test_ci_release_exits_with_the_releases_outcome
    checks it), its run page lists the report artifact, which opens on the gate decisions."""
    from petswipe_ops.record import ReleaseLedger
    from petswipe_ops.report import render_summary

    page = browser_page
    run_id = run_id_of(two_releases["healthy"][1])
    ledger = ReleaseLedger(deployed.project.run_root / "local" / "releases")
    record = next(r for r in ledger.all() if r.version == "1.1.0")
    # Opened by its URL, not by clicking its name in the runs list: on a busy machine that
    # click can land while the list re-renders and never navigate.
    page.goto(f"{deployed.stack.ui_url}/runs/flow-run/{run_id}", wait_until="domcontentloaded")
    page.get_by_text("release-local-1.1.0").first.wait_for(timeout=60_000)
    page.get_by_text("Artifacts", exact=True).first.click()
    report = page.get_by_text("release-local", exact=True).first
    report.wait_for(timeout=30_000)
    summary = render_summary(record).split(";")[0]
    assert page.get_by_text(summary).count() >= 1, summary
    report.click()
    page.get_by_text("Canary gate decisions").first.wait_for(timeout=30_000)

    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "prefect-ui-release-report.png"), full_page=True)
    assert (SHOTS / "prefect-ui-release-report.png").stat().st_size > 10_000


def submit_until_closed(form, attempts: int = 3) -> None:
    """Click Submit until the dialog closes: on a busy machine the first click can land
    before the form is ready and be ignored, leaving the run paused."""
    for _ in range(attempts):
        form.get_by_role("button", name="Submit").click()
        try:
            form.wait_for(state="hidden", timeout=15_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the Resume form never closed after Submit")


def test_a_paused_release_is_answered_with_the_ui_form(deployed, browser_page):
    """The Approval RunInput is the Resume form: turn off "approve", give a reason, submit."""
    page = browser_page
    run_id = deployed.run_deployment(
        "release/local", {"environment": "local", "version": "1.7.0", "auto_approve": False}
    )
    deployed.paused(run_id)
    page.goto(f"{deployed.stack.ui_url}/runs/flow-run/{run_id}", wait_until="networkidle")
    page.get_by_role("button", name="Resume").first.click()
    form = page.get_by_role("dialog")
    assert form.get_by_role("switch").get_attribute("aria-checked") == "true"
    form.get_by_role("switch").click()
    approver, reason = form.locator("textarea").nth(0), form.locator("textarea").nth(1)
    approver.fill("alice")
    reason.fill("CHG-44 rejected in the UI")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "prefect-ui-approval-form.png"))
    submit_until_closed(form)

    run = deployed.finished(run_id)
    assert run["state_type"] == "FAILED"
    assert run["state"]["message"] == (
        "rolled back: rejected at approval: CHG-44 rejected in the UI (by alice)"
    )
