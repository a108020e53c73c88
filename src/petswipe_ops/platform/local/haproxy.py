"""HAProxy as the traffic router: a config file to start it, the runtime API to steer it.

Weights move live through the admin socket (`set weight`), never by a reload, and
are read back from HAProxy itself so a report shows what the router really does. Its
per-server counters (`show stat`) tell the gates about the 5xx HAProxy answers itself.
"""

from __future__ import annotations

import socket
from pathlib import Path

from petswipe_ops.errors import MetricsUnavailable, SandboxError
from petswipe_ops.platform.router_errors import RouterCounts
from petswipe_ops.platform.seams import RouterState, VersionInstance, Weights

BACKEND = "petswipe"
INSTALL_HINT = "install it with `apt-get install haproxy` (Debian) or `brew install haproxy`"


def render_config(
    *,
    router_port: int,
    stable_port: int,
    candidate_port: int,
    socket_path: Path,
    health_path: str,
    health_interval_s: int,
    metrics_port: int | None = None,
) -> str:
    """HAProxy config: one frontend, a stable server at 100 and a parked candidate at 0.

    With `metrics_port`, a second frontend serves HAProxy's built-in Prometheus exporter
    (requests, status classes and response times per frontend, backend and server).
    """
    check = f"check inter {health_interval_s}s fall 2 rise 1"
    exporter = (
        [
            "frontend prometheus",
            f"    bind 127.0.0.1:{metrics_port}",
            "    http-request use-service prometheus-exporter if { path /metrics }",
            "    no log",
            "",
        ]
        if metrics_port
        else []
    )
    return "\n".join(
        [
            "global",
            f"    stats socket {socket_path} mode 600 level admin",
            "    maxconn 4096",
            "",
            "defaults",
            "    mode http",
            "    timeout connect 2s",
            "    timeout client 30s",
            "    timeout server 30s",
            # A request the server refused or dropped unanswered (a version stopping, a
            # connection it closed as the request went out) is sent again to another server.
            "    retries 2",
            "    option redispatch 1",
            "    retry-on conn-failure empty-response",
            "",
            "frontend petswipe_front",
            f"    bind 127.0.0.1:{router_port}",
            f"    default_backend {BACKEND}",
            "",
            f"backend {BACKEND}",
            # Weighted round robin: the candidate's weight is its exact share of requests.
            # `random` draws two servers and keeps the less busy one, which moves the share
            # away from the weight whenever one version is slower.
            "    balance roundrobin",
            f"    option httpchk GET {health_path}",
            f"    server stable 127.0.0.1:{stable_port} weight 100 {check}",
            f"    server candidate 127.0.0.1:{candidate_port} weight 0 disabled {check}",
            "",
            *exporter,
        ]
    )


class HaproxyRuntime:
    """A client of HAProxy's runtime API over its unix socket."""

    def __init__(self, socket_path: Path, timeout: float = 5.0) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def command(self, line: str) -> str:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(self.timeout)
                conn.connect(str(self.socket_path))
                conn.sendall(line.encode() + b"\n")
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise SandboxError(
                f"HAProxy's runtime socket {self.socket_path} did not answer "
                f"({exc.strerror or exc}); start the sandbox with `make sandbox-up`."
            ) from exc
        reply = b"".join(chunks).decode().strip()
        if reply and not reply[0].isdigit() and "not found" in reply.lower():
            raise SandboxError(f"HAProxy refused '{line}': {reply}.")
        return reply

    def weight(self, server: str) -> int:
        reply = self.command(f"get weight {BACKEND}/{server}")
        try:
            return int(reply.split()[0])
        except (IndexError, ValueError) as exc:
            raise SandboxError(
                f"HAProxy answered '{reply}' when asked for {server}'s weight."
            ) from exc

    def server_state(self, server: str) -> dict[str, str]:
        """One row of `show servers state` for `server`, keyed by column name."""
        lines = self.command(f"show servers state {BACKEND}").splitlines()
        header = next(line for line in lines if line.startswith("#")).lstrip("# ").split()
        for line in lines:
            fields = line.split()
            if len(fields) >= len(header) and fields[header.index("srv_name")] == server:
                return dict(zip(header, fields, strict=False))
        raise SandboxError(f"HAProxy has no server {server} in backend {BACKEND}.")

    def server_stats(self) -> dict[str, dict[str, str]]:
        """`show stat` of the backend's servers: server name -> CSV column -> value."""
        lines = self.command(f"show stat {BACKEND} 4 -1").splitlines()
        if not lines or not lines[0].startswith("# "):
            raise SandboxError(f"HAProxy answered '{lines[:1]}' to `show stat`.")
        header = lines[0].removeprefix("# ").split(",")
        rows = (dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line)
        return {row["svname"]: row for row in rows if row.get("pxname") == BACKEND}


ROUTER_ERROR_COLUMNS = ("econ", "eresp")
"""HAProxy's per-server failures that reach the client as a 5xx HAProxy wrote itself:
`econ`, a connection that failed after the retries (HAProxy answers 503), and `eresp`,
a response that failed (aborted, timed out: 502 or 504). The server's `hrsp_5xx` counts
only what the server answered, so these never overlap the version's own 5xx. `wretr`
and `wredis` count the tries the server failed that HAProxy sent again (to it, or to the
other server, which then answered the user): they show a failing server a turn-around
sooner, and without any user seeing an error."""


class HaproxyServerErrors:
    """RouterErrorCounter over the runtime socket: a version's role is its server's name."""

    def __init__(self, runtime: HaproxyRuntime) -> None:
        self.runtime = runtime

    def router_counts(self, instance: VersionInstance) -> RouterCounts:
        try:
            row = self.runtime.server_stats().get(instance.role)
        except SandboxError as exc:
            raise MetricsUnavailable(
                f"could not read HAProxy's counters for {instance.role}: {exc}"
            ) from exc
        if row is None:
            raise MetricsUnavailable(f"HAProxy has no server {instance.role} in {BACKEND}.")
        errors = sum(int(row.get(column) or 0) for column in ROUTER_ERROR_COLUMNS)
        tried_again = sum(int(row.get(column) or 0) for column in ("wretr", "wredis"))
        return RouterCounts(errors=errors, attempts=errors + tried_again)


class HaproxyRouter:
    """TrafficRouter over HAProxy: server `stable` and server `candidate` in one backend."""

    def __init__(self, runtime: HaproxyRuntime) -> None:
        self.runtime = runtime

    def get_weights(self) -> Weights:
        return Weights(
            stable=self.runtime.weight("stable"), candidate=self.runtime.weight("candidate")
        )

    def state(self) -> RouterState:
        """Weights and the address each server sends to; a parked candidate has none."""
        stable = self.runtime.server_state("stable")
        candidate = self.runtime.server_state("candidate")
        parked = int(candidate.get("srv_admin_state", "0")) & MAINTENANCE
        return RouterState(
            weights=self.get_weights(),
            stable_target=_endpoint(stable),
            candidate_target=None if parked else _endpoint(candidate),
        )

    def set_candidate_weight(self, percent: int) -> Weights:
        if not 0 <= percent <= 100:
            raise SandboxError(f"a candidate weight must be 0..100 percent, not {percent}.")
        self.runtime.command(f"set weight {BACKEND}/candidate {percent}")
        self.runtime.command(f"set weight {BACKEND}/stable {100 - percent}")
        return self.get_weights()

    def attach_candidate(self, instance: VersionInstance) -> None:
        host, port = _host_port(instance.endpoint)
        self.runtime.command(f"set weight {BACKEND}/candidate 0")
        self.runtime.command(f"set server {BACKEND}/candidate addr {host} port {port}")
        self.runtime.command(f"set server {BACKEND}/candidate state ready")

    def point_stable(self, instance: VersionInstance) -> None:
        """Send the `stable` server's traffic to `instance`."""
        host, port = _host_port(instance.endpoint)
        self.runtime.command(f"set server {BACKEND}/stable addr {host} port {port}")

    def detach_candidate(self) -> None:
        self.runtime.command(f"set weight {BACKEND}/stable 100")
        self.runtime.command(f"set weight {BACKEND}/candidate 0")
        self.runtime.command(f"set server {BACKEND}/candidate state maint")


MAINTENANCE = 0x01
"""The forced-maintenance bit of `srv_admin_state` in `show servers state`."""


def _endpoint(row: dict[str, str]) -> str:
    return f"http://{row['srv_addr']}:{row['srv_port']}"


def _host_port(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.removeprefix("http://").rstrip("/").rpartition(":")
    return host, int(port)
