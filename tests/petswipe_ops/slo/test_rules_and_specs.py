"""SLO specs in deployments/<env>.yaml, the gate thresholds and the rules generated from them."""

from __future__ import annotations

import pytest
import yaml

from petswipe_ops.config import available_environments, load_environment
from petswipe_ops.deployment_spec import problems
from petswipe_ops.errors import ConfigError
from petswipe_ops.paths import project_root
from petswipe_ops.platform.local.haproxy import render_config as haproxy_config
from petswipe_ops.platform.local.prometheus_server import promtool_binary, retention_days
from petswipe_ops.platform.local.prometheus_server import render_config as prometheus_config
from petswipe_ops.proc import run
from petswipe_ops.slo.gate import gate_thresholds
from petswipe_ops.slo.rules import rule_groups, write_rules

ROOT = project_root()


@pytest.mark.parametrize("environment", available_environments(ROOT))
def test_every_environment_has_the_seeds_five_slos_and_valid_rules(environment, tmp_path):
    config = load_environment(environment, ROOT)
    found = {s.name: (s.objective, s.window) for s in config.slos}
    assert found == {
        "availability": (0.999, "30d"),
        "latency-p50": (0.5, "24h"),
        "latency-p95": (0.95, "24h"),
        "latency-p99": (0.99, "24h"),
        "error-rate": (0.999, "1h"),
    }
    assert gate_thresholds(config) == config.slo
    rules = write_rules(config, tmp_path / "rules.yml")
    checked = run([promtool_binary(), "check", "rules", str(rules)], timeout=60)
    assert "SUCCESS: 95 rules found" in checked.stdout


def test_rules_record_every_window_and_alert_on_the_workbooks_pairs():
    config = load_environment("local", ROOT)
    group = rule_groups(config)["groups"][0]
    assert group["name"] == "slo-local-availability"
    windows = [r["labels"]["window"] for r in group["rules"] if "window" in r["labels"]]
    assert windows == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    alerts = {
        (r["alert"], r["labels"].get("burn_window")): r["expr"]
        for r in group["rules"]
        if "alert" in r
    }
    page = alerts[("SLOBurnRatePage", "1h/5m")]
    assert "ratio_rate1h" in page and "ratio_rate5m" in page and "(14.4 * 0.001)" in page
    assert "(6 * 0.001)" in alerts[("SLOBurnRatePage", "6h/30m")]
    assert "(3 * 0.001)" in alerts[("SLOBurnRateTicket", "1d/2h")]
    assert "(1 * 0.001)" in alerts[("SLOBurnRateTicket", "3d/6h")]
    budget = next(r for r in group["rules"] if r.get("record", "").startswith("slo:period_error"))
    assert "ratio_rate30d" in budget["expr"] and budget["labels"]["period"] == "30d"


def test_gate_thresholds_follow_the_specs(make_project):
    project = make_project()

    def tighter(data):
        for spec in data["slos"]:
            if spec["name"] == "latency-p95":
                spec["indicator"]["threshold_ms"] = 400
            if spec["name"] == "availability":
                spec["objective"] = 0.9995

    project.edit("local", tighter)
    slo = gate_thresholds(load_environment("local", project.root))
    assert slo.p95_ms == 400 and slo.availability == 0.9995 and slo.p99_ms == 1000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s[0].update(window="30 days"), "is not a duration like 5m, 6h or 30d"),
        (lambda s: s[1].update(name="availability"), "SLO names must be unique"),
        (lambda s: s[0].update(objective=1.5), "slos.0.objective"),
    ],
)
def test_broken_slo_specs_are_one_sentence(make_project, change, message):
    project = make_project()
    project.edit("local", lambda data: change(data["slos"]))
    with pytest.raises(ConfigError, match=message):
        load_environment("local", project.root)


def test_deployments_check_wants_an_slo_report_every_15_minutes(make_project):
    project = make_project()
    (project.root / "prefect.yaml").write_text((ROOT / "prefect.yaml").read_text())
    assert problems(project.root) == []
    data = yaml.safe_load((project.root / "prefect.yaml").read_text())
    for d in data["deployments"]:
        if d["entrypoint"].startswith("flows/slo_report.py") and d["name"] == "staging":
            d["schedules"][0]["cron"] = "0 * * * *"
    data["deployments"] = [
        d
        for d in data["deployments"]
        if not (d["entrypoint"].startswith("flows/slo_report.py") and d["name"] == "production")
    ]
    (project.root / "prefect.yaml").write_text(yaml.safe_dump(data))
    assert problems(project.root) == [
        "prefect.yaml has no slo-report deployment for 'production'",
        "slo-report/staging in prefect.yaml runs on ['0 * * * *'], not every 15 minutes "
        "('*/15 * * * *')",
    ]


def test_sandbox_prometheus_keeps_31_days_and_scrapes_the_router_and_both_ports():
    config = load_environment("local", ROOT)
    assert retention_days(config) >= 31
    text = prometheus_config(config, router_metrics_port=18085, service_ports=(18081, 18082))
    scrape = {j["job_name"]: j for j in yaml.safe_load(text)["scrape_configs"]}
    assert scrape["haproxy"]["static_configs"][0]["targets"] == ["127.0.0.1:18085"]
    assert scrape["petswipe"]["static_configs"][0]["targets"] == [
        "127.0.0.1:18081",
        "127.0.0.1:18082",
    ]
    cfg = haproxy_config(
        router_port=1,
        stable_port=2,
        candidate_port=3,
        socket_path=ROOT / "x.sock",
        health_path="/health",
        health_interval_s=2,
        metrics_port=18085,
    )
    assert "bind 127.0.0.1:18085" in cfg and "use-service prometheus-exporter" in cfg
