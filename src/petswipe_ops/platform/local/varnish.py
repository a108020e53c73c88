"""Varnish in front of HAProxy on 127.0.0.1, with the seed's cache policies in its VCL.

Static assets are kept 1 day unless the origin says otherwise, images 7 days, both at
most 1 year; the API (and health, metrics, auth) is never cached. `X-Cache` says HIT,
MISS or PASS and `X-Edge-TTL` the TTL the policy gave, so a user can check both.
Invalidation is a ban through the admin port, authenticated by an owner-only secret.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import httpx

from petswipe_ops import http_client
from petswipe_ops.cdn.paths import ban_regex, check_paths
from petswipe_ops.errors import SandboxError
from petswipe_ops.platform.local.services import alive, terminate
from petswipe_ops.proc import find_binary, run

INSTALL_HINT = "install it with `apt-get install varnish` (Debian) or `brew install varnish`"
DAY = 86400
STATIC_DEFAULT_S = DAY
IMAGE_DEFAULT_S = 7 * DAY
MAX_TTL_S = 365 * DAY


def varnishd_binary() -> str:
    return find_binary(
        "varnishd",
        env_var="PETSWIPE_VARNISHD_BIN",
        install_hint=INSTALL_HINT,
        extra=[Path("/usr/sbin/varnishd")],
    )


def varnishadm_binary() -> str:
    return find_binary("varnishadm", env_var="PETSWIPE_VARNISHADM_BIN", install_hint=INSTALL_HINT)


def render_vcl(router_port: int) -> str:
    return f"""vcl 4.1;

backend router {{
    .host = "127.0.0.1";
    .port = "{router_port}";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}}

sub vcl_recv {{
    if (req.url ~ "^/(api|auth|health|metrics|version)(/|\\?|$)"
        || (req.method != "GET" && req.method != "HEAD")) {{
        set req.http.X-Edge-Pass = "1";
        return (pass);
    }}
    unset req.http.Cookie;
    unset req.http.Authorization;
    return (hash);
}}

sub vcl_backend_response {{
    if (bereq.url ~ "^/static/") {{
        set beresp.http.X-Cache-Policy = "static";
        if (!beresp.http.Cache-Control ~ "max-age" && !beresp.http.Expires) {{
            set beresp.ttl = {STATIC_DEFAULT_S}s;
        }}
    }} elsif (bereq.url ~ "^/images/") {{
        set beresp.http.X-Cache-Policy = "images";
        if (!beresp.http.Cache-Control ~ "max-age" && !beresp.http.Expires) {{
            set beresp.ttl = {IMAGE_DEFAULT_S}s;
        }}
    }} else {{
        set beresp.http.X-Cache-Policy = "none";
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }}
    if (beresp.http.Cache-Control ~ "(no-store|private)") {{
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }}
    if (beresp.ttl > {MAX_TTL_S}s) {{
        set beresp.ttl = {MAX_TTL_S}s;
    }}
    set beresp.http.X-Edge-TTL = beresp.ttl;
    set beresp.grace = 10s;
}}

sub vcl_deliver {{
    if (req.http.X-Edge-Pass) {{
        set resp.http.X-Cache = "PASS";
    }} elsif (obj.hits > 0) {{
        set resp.http.X-Cache = "HIT";
    }} else {{
        set resp.http.X-Cache = "MISS";
    }}
}}
"""


class VarnishCache:
    """One varnishd per environment; state in `<run dir>/varnish/`."""

    def __init__(self, run_dir: Path, port: int, admin_port: int, router_port: int) -> None:
        self.folder = run_dir / "varnish"
        self.port = port
        self.admin_port = admin_port
        self.router_port = router_port
        self.pid_file = self.folder / "varnishd.pid"
        self.secret_file = self.folder / "secret"
        self.vcl = self.folder / "default.vcl"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return pid if alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def _secret(self) -> Path:
        if not self.secret_file.is_file():
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
        return self.secret_file

    def up(self) -> None:
        """Start varnishd if it is not running; idempotent."""
        binary = varnishd_binary()
        if self.running():
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.vcl.write_text(render_vcl(self.router_port))
        work = str(self.folder / "work")
        run([binary, "-j", "none", "-C", "-f", str(self.vcl), "-n", work], timeout=60)
        run(
            [
                binary,
                # no privilege-separation jail: the run folder may be readable by its owner only
                "-j",
                "none",
                "-a",
                f"127.0.0.1:{self.port}",
                "-T",
                f"127.0.0.1:{self.admin_port}",
                "-S",
                str(self._secret()),
                "-f",
                str(self.vcl),
                "-n",
                str(self.folder / "work"),
                "-P",
                str(self.pid_file),
                "-s",
                "malloc,64m",
                "-p",
                "default_ttl=0",
            ],
            timeout=60,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                http_client.get(f"{self.url}/health", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SandboxError(f"Varnish did not answer on {self.url} within 15 s; see {self.folder}.")

    def down(self) -> None:
        pid = self.pid()
        if pid is not None:
            terminate(pid, group=False)
        self.pid_file.unlink(missing_ok=True)

    def ban(self, paths: list[str]) -> list[str]:
        """Ban every cached object under `paths`; returns the ban expressions."""
        checked = check_paths(paths)
        adm = varnishadm_binary()
        if not self.running():
            raise SandboxError(
                f"Varnish is not running on {self.url}; set cdn.enabled in the environment "
                "file and start the sandbox with `make sandbox-up`."
            )
        expressions = [f"req.url ~ {ban_regex(p)}" for p in checked]
        for expression in expressions:
            run(
                [
                    adm,
                    "-T",
                    f"127.0.0.1:{self.admin_port}",
                    "-S",
                    str(self.secret_file),
                    "ban",
                    *expression.split(" ", 2),
                ],
                timeout=15,
            )
        return expressions
