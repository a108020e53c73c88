"""The local edge cache: real Varnish in front of HAProxy and the reference service. Cached
objects come from the cache, change after `make invalidate-cache`, the API is never cached;
all checked on the response headers a user would look at."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from petswipe_cli.main import app
from petswipe_ops import http_client
from petswipe_ops.cdn.invalidation import invalidate_release_paths
from petswipe_ops.config import load_environment
from petswipe_ops.errors import MissingBinaryError
from petswipe_ops.platform.local.sandbox import LocalSandbox
from petswipe_ops.ports import free_ports
from tests.petswipe_cli.test_main import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def cdn_sandbox(make_project):
    project = make_project()
    port, admin = free_ports(2)
    project.edit(
        "local",
        lambda d: d.update(cdn={"enabled": True, "port": port, "admin_port": admin}),
    )
    sandbox = LocalSandbox(load_environment("local", project.root))
    try:
        sandbox.up()
        yield project, sandbox
    finally:
        sandbox.down()


def test_cache_hits_invalidation_and_api_never_cached(cdn_sandbox):
    project, sandbox = cdn_sandbox
    with http_client.client(base_url=sandbox.cdn.url, timeout=5) as edge:
        first = edge.get("/static/app.css")
        second = edge.get("/static/app.css")
        assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
        assert second.headers["X-Cache"] == "HIT" and second.text == first.text
        assert int(second.headers["Age"]) >= 0
        assert float(first.headers["X-Edge-TTL"]) == 86400  # static: 1 day by default
        image = edge.get("/images/pets/3.svg")
        assert image.headers["Content-Type"] == "image/svg+xml"
        assert float(image.headers["X-Edge-TTL"]) == 7 * 86400  # images: 7 days
        assert edge.get("/images/pets/3.svg").headers["X-Cache"] == "HIT"
        hashed = edge.get("/static/app.0123abcd.js")
        assert "max-age=63072000" in hashed.headers["Cache-Control"]
        assert float(hashed.headers["X-Edge-TTL"]) == 365 * 86400  # capped at 1 year

        for _ in range(2):
            api = edge.get("/api/pets?limit=1")
            assert api.status_code == 200
            assert api.headers["X-Cache"] == "PASS"
            assert api.headers.get("Age", "0") == "0"
            assert "X-Edge-TTL" not in api.headers

        result = cli(project, "cdn", "invalidate", "--env", "local", "--paths", "/static/*")
        assert result.returncode == 0, result.stderr
        assert "invalidated /static/* on varnish of local" in result.stdout

        after = edge.get("/static/app.css")
        assert after.headers["X-Cache"] == "MISS" and after.text != first.text
        assert edge.get("/static/app.css").headers["X-Cache"] == "HIT"
        # what was not named stays cached
        assert edge.get("/images/pets/3.svg").headers["X-Cache"] == "HIT"

        # the release's finalize stage invalidates what deployments/local.yaml names
        project.edit("local", lambda d: d["cdn"].update(invalidate_on_release=["/images/*"]))
        done = invalidate_release_paths(load_environment("local", project.root))
        assert done is not None and done.paths == ["/images/*"]
        assert edge.get("/images/pets/3.svg").headers["X-Cache"] == "MISS"


@pytest.mark.parametrize(
    ("paths", "sentence"),
    [
        ("static/*", "path 'static/*' must start with '/'"),
        ("/st*tic/", "path '/st*tic/' may have a '*' only as its last character."),
        ("", "no paths to invalidate"),
    ],
)
def test_bad_paths_are_refused_and_nothing_is_banned(cdn_sandbox, paths, sentence):
    _, sandbox = cdn_sandbox
    with http_client.client(base_url=sandbox.cdn.url, timeout=5) as edge:
        edge.get("/static/app.css")
        args = ["cdn", "invalidate", "--env", "local", "--paths", paths]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {sentence}")
        assert edge.get("/static/app.css").headers["X-Cache"] == "HIT"


def test_varnish_missing_is_one_sentence_and_starts_nothing(make_project, monkeypatch):
    project = make_project()
    project.edit("local", lambda d: d.update(cdn={"enabled": True}))
    monkeypatch.setenv("PETSWIPE_VARNISHD_BIN", "/nonexistent/varnishd")
    sandbox = LocalSandbox(load_environment("local", project.root))
    with pytest.raises(MissingBinaryError, match="varnishd was not found at /nonexistent"):
        sandbox.up()
    assert sandbox.services.running() == []
    assert not sandbox.run_dir.exists() or not any(sandbox.run_dir.iterdir())
