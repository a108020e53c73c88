"""Request-rate history from a real Prometheus, backfilled with promtool (Debian's package)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from petswipe_ops import http_client
from petswipe_ops.scaling.forecast import fit_forecast, hourly
from petswipe_ops.scaling.history import PrometheusRequestRate
from tests.petswipe_ops.scaling.synthetic import weekly_rates

pytestmark = pytest.mark.integration

QUERY = "sum(rate(petswipe_http_requests_total[5m]))"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def prometheus_with_a_week(tmp_path):
    """Eight days of the service's request counter, one sample a minute, then Prometheus."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rates = weekly_rates(now, 8, base=50.0, noise=0.02)
    lines = ["# TYPE petswipe_http_requests counter"]
    total = 0.0
    for point in rates:
        for minute in range(60):
            at = point.at + timedelta(minutes=minute)
            if at > now - timedelta(minutes=5):
                break
            total += point.value * 60
            lines.append(
                f'petswipe_http_requests_total{{code="200",route="/pets"}} {total:.0f} '
                f"{int(at.timestamp())}"
            )
    lines.append("# EOF")
    source = tmp_path / "history.om"
    source.write_text("\n".join(lines) + "\n")
    data = tmp_path / "data"
    subprocess.run(
        [
            shutil.which("promtool") or "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=24h",
            str(source),
            str(data),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = _free_port()
    process = subprocess.Popen(
        [
            shutil.which("prometheus") or "/usr/bin/prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                if http_client.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield url, now, rates
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_week_of_history_from_prometheus_feeds_the_forecast(prometheus_with_a_week):
    url, now, rates = prometheus_with_a_week
    points = PrometheusRequestRate(url, QUERY).request_rate(
        now - timedelta(days=7, hours=1), now, 300
    )
    history = hourly(points)
    assert len(history) >= 166
    truth = {p.at: p.value for p in rates}
    middle = history[len(history) // 2]
    assert middle.value == pytest.approx(truth[middle.at], rel=0.1)
    forecast = fit_forecast(history)
    assert len(forecast.points) == 48


def test_unreachable_prometheus_is_one_sentence():
    from petswipe_ops.errors import ExternalCommandError

    source = PrometheusRequestRate(f"http://127.0.0.1:{_free_port()}", QUERY, timeout=2)
    with pytest.raises(ExternalCommandError) as raised:
        source.request_rate(datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC), 300)
    assert "did not answer the request-rate query" in str(raised.value)
    assert str(raised.value).endswith("start it or set scaling.prometheus_url.")
