"""The reference PetSwipe service that the local sandbox deploys, one process per version.

A small but real HTTP API over the migrated database, with the Prometheus metrics the
canary gates read and environment knobs that inject errors and latency, so a release
can be rehearsed end to end without a cloud account.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import random
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NoReturn
from urllib.parse import parse_qs, urlsplit

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

# 0.2, 0.5 and 1.0 are the latency SLOs' thresholds, so Prometheus counts them exactly.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)
TABLES = ("users", "pets", "swipes", "matches")

metadata = MetaData()
users = Table("users", metadata, Column("id", Integer, primary_key=True))
pets = Table(
    "pets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("species", String),
    Column("breed", String),
    Column("age_months", Integer),
    Column("shelter", String),
    Column("created_at", DateTime(timezone=True)),
)
swipes = Table(
    "swipes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer),
    Column("pet_id", Integer),
    Column("direction", String),
    Column("created_at", DateTime(timezone=True)),
)
matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer),
    Column("pet_id", Integer),
    Column("created_at", DateTime(timezone=True)),
)


class SwipeIn(BaseModel):
    """The body of POST /api/swipes."""

    model_config = ConfigDict(extra="forbid", strict=True)

    user_id: int
    pet_id: int
    direction: Literal["like", "pass"]


class Faults(BaseModel):
    """Injected misbehaviour, read once at start so a bad value stops the process early."""

    error_rate: float = 0.0
    latency_ms: float = 0.0
    client_error_rate: float = 0.0


class HttpError(Exception):
    """Ends a request with a status and a one-sentence JSON error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Metrics:
    """The metric names the pipeline's scraper reads; only /api/* traffic is counted."""

    def __init__(self, version: str) -> None:
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "petswipe_http_requests",
            "API requests by status code and route.",
            ["code", "route"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "petswipe_http_request_duration_seconds",
            "API request latency, including injected latency.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        build = Gauge(
            "petswipe_build_info", "The running version.", ["version"], registry=self.registry
        )
        build.labels(version=version).set(1)

    def observe(self, route: str, code: int, seconds: float) -> None:
        self.requests.labels(code=str(code), route=route).inc()
        self.duration.labels(route=route).observe(seconds)


def masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


POOL_SIZE = 10


def make_engine(url: str) -> Engine:
    """SQLite gets WAL and a busy timeout so concurrent swipes wait instead of failing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": 10}, pool_size=POOL_SIZE, max_overflow=20
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(
        url, connect_args=connect_args, pool_size=POOL_SIZE, max_overflow=20, pool_pre_ping=True
    )


def row_json(row: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row._mapping.items()}


def int_param(query: dict[str, list[str]], name: str, default: int | None = None) -> int:
    values = query.get(name)
    if not values:
        if default is None:
            raise HttpError(400, f"Query parameter {name} is required; pass ?{name}=<integer>.")
        return default
    try:
        return int(values[0])
    except ValueError:
        raise HttpError(400, f"Query parameter {name} must be an integer.") from None


class App:
    """Routes and handlers, independent of the HTTP plumbing."""

    def __init__(self, engine: Engine, version: str, api_key: str | None, faults: Faults) -> None:
        self.engine = engine
        self.version = version
        self.api_key = api_key
        self.faults = faults
        self.metrics = Metrics(version)
        self.rotation: RotatingSecrets | None = None
        self.flags: FlagSet | None = None
        self.base_url = engine.url.render_as_string(hide_password=False)
        self.routes: list[tuple[str, re.Pattern[str], str, Callable[..., tuple[int, Any]]]] = [
            ("GET", re.compile(r"/api/pets"), "/api/pets", self.list_pets),
            ("GET", re.compile(r"/api/pets/(\d+)"), "/api/pets/{id}", self.get_pet),
            ("POST", re.compile(r"/api/swipes"), "/api/swipes", self.swipe),
            ("GET", re.compile(r"/api/matches"), "/api/matches", self.list_matches),
        ]

    def health(self) -> tuple[int, dict[str, Any]]:
        def ping() -> None:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            with_reauth(self, ping)
        except SQLAlchemyError:
            return 503, {"status": "unavailable", "version": self.version}
        return 200, {"status": "ok", "version": self.version}

    def list_pets(self, query: dict[str, list[str]], _body: bytes) -> tuple[int, Any]:
        limit = int_param(query, "limit", 20)
        if not 1 <= limit <= 100:
            raise HttpError(400, "Query parameter limit must be between 1 and 100.")
        newest_first = flag_on(self, "recommended-feed", query)
        order = pets.c.id.desc() if newest_first else pets.c.id
        with self.engine.connect() as conn:
            rows = conn.execute(select(pets).order_by(order).limit(limit)).all()
        feed = "recommended" if newest_first else "default"
        return 200, {"pets": [row_json(r) for r in rows], "count": len(rows), "feed": feed}

    def get_pet(self, _query: dict[str, list[str]], _body: bytes, pet_id: str) -> tuple[int, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(pets).where(pets.c.id == int(pet_id))).first()
        if row is None:
            raise HttpError(404, f"Pet {pet_id} does not exist.")
        return 200, row_json(row)

    def swipe(self, _query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        try:
            swipe = SwipeIn.model_validate_json(body or b"{}")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise HttpError(400, f"Invalid swipe: {where}: {first['msg']}.") from None
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == swipe.user_id)).first() is None:
                raise HttpError(404, f"User {swipe.user_id} does not exist.")
            if conn.execute(select(pets.c.id).where(pets.c.id == swipe.pet_id)).first() is None:
                raise HttpError(404, f"Pet {swipe.pet_id} does not exist.")
            swipe_id = conn.execute(
                swipes.insert().values(**swipe.model_dump())
            ).inserted_primary_key[0]
            matched = False
            if swipe.direction == "like":
                key = (matches.c.user_id == swipe.user_id) & (matches.c.pet_id == swipe.pet_id)
                if conn.execute(select(matches.c.id).where(key)).first() is None:
                    conn.execute(
                        matches.insert().values(user_id=swipe.user_id, pet_id=swipe.pet_id)
                    )
                matched = True
        return 201, {"id": swipe_id, **swipe.model_dump(), "matched": matched}

    def list_matches(self, query: dict[str, list[str]], _body: bytes) -> tuple[int, Any]:
        user_id = int_param(query, "user_id")
        stmt = (
            select(matches.c.id, matches.c.pet_id, pets.c.name, matches.c.created_at)
            .join(pets, pets.c.id == matches.c.pet_id)
            .where(matches.c.user_id == user_id)
            .order_by(matches.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return 200, {"user_id": user_id, "matches": [row_json(r) for r in rows]}

    def api(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes, key: str | None
    ) -> tuple[str, int, Any]:
        """Serve one /api/* request; returns (route template, status, JSON body)."""
        route = "unmatched"
        allowed: list[str] = []
        handler: Callable[..., tuple[int, Any]] | None = None
        args: tuple[str, ...] = ()
        for verb, pattern, template, func in self.routes:
            match = pattern.fullmatch(path)
            if match:
                route = template
                allowed.append(verb)
                if verb == method:
                    handler, args = func, match.groups()
        try:
            if self.faults.latency_ms > 0:
                time.sleep(self.faults.latency_ms / 1000.0)
            if self.faults.error_rate > 0 and random.random() < self.faults.error_rate:
                raise HttpError(500, "Injected fault: PETSWIPE_FAULT_ERROR_RATE is set.")
            client_error_rate = self.faults.client_error_rate
            if client_error_rate > 0 and random.random() < client_error_rate:
                raise HttpError(401, "Injected fault: PETSWIPE_FAULT_CLIENT_ERROR_RATE is set.")
            rotation = self.rotation
            rotated_ok = rotation is not None and key is not None and rotation.holds_key(key)
            if self.api_key is not None and key != self.api_key and not rotated_ok:
                raise HttpError(401, "Missing or wrong X-API-Key header.")
            if rotation is not None and key != self.api_key and not rotation.api_key_ok(key):
                raise HttpError(401, "The X-API-Key is not a current or previous key.")
            if handler is None:
                if allowed:
                    raise HttpError(405, f"{method} is not allowed on {route}.")
                raise HttpError(404, f"No API route matches {path}.")
            status, payload = with_reauth(self, lambda: handler(query, body, *args))
        except HttpError as exc:
            return route, exc.status, {"error": str(exc)}
        except SQLAlchemyError:
            return route, 503, {"error": "The database is unavailable; try again shortly."}
        return route, status, payload


# --- Rotated secrets: database credentials, API keys and JWT signing keys -------------
# The sandbox's secret store (PETSWIPE_SECRETS_FILE) keeps Secrets Manager's stages.
# The service connects with the AWSCURRENT database credentials, accepts an API key or a
# JWT signing key in any of AWSCURRENT / AWSPENDING / AWSPREVIOUS, re-reads the store on
# SIGHUP and when authentication fails, so a rotation never needs a restart.

STAGES = ("AWSCURRENT", "AWSPENDING", "AWSPREVIOUS")


class RotatingSecrets:
    """The staged values of the service's secrets, re-read from the store file on demand."""

    def __init__(self, path: str, db_name: str, api_key_name: str, jwt_name: str) -> None:
        self.path = path
        self.names = {"db": db_name, "api-key": api_key_name, "jwt": jwt_name}
        self.lock = threading.Lock()
        self.versions: dict[str, dict[str, dict[str, Any]]] = {}
        self.mtime_ns = -1
        self.read()

    def read(self) -> None:
        try:
            self.mtime_ns = os.stat(self.path).st_mtime_ns
            with open(self.path) as source:
                data = json.load(source)
        except (OSError, ValueError):
            data = {}
        secrets = data.get("secrets", {})
        self.versions = {
            kind: secrets.get(name, {}).get("versions", {}) for kind, name in self.names.items()
        }

    def reread(self) -> bool:
        """Read the store again if the file changed since the last read; True when it did."""
        with self.lock:
            try:
                changed = os.stat(self.path).st_mtime_ns != self.mtime_ns
            except OSError:
                changed = False
            if changed:
                self.read()
            return changed

    def staged(self, kind: str) -> dict[str, str]:
        """version id -> value for the versions of `kind` holding any stage."""
        return {
            vid: entry["value"]
            for vid, entry in self.versions.get(kind, {}).items()
            if set(entry.get("stages", ())) & set(STAGES)
        }

    def current(self, kind: str) -> tuple[str, str] | None:
        for vid, entry in self.versions.get(kind, {}).items():
            if "AWSCURRENT" in entry.get("stages", ()):
                return vid, entry["value"]
        return None

    def holds_key(self, key: str) -> bool:
        """`key` is one of the staged API keys (a rotated key replaces a static one)."""
        if key in self.staged("api-key").values():
            return True
        return bool(self.reread()) and key in self.staged("api-key").values()

    def api_key_ok(self, key: str | None) -> bool:
        """A presented X-API-Key must be a staged key, once any key is staged."""
        if key is None:
            return True
        if not self.staged("api-key") or key in self.staged("api-key").values():
            return True
        return self.reread() and key in self.staged("api-key").values()

    def database_url(self, base_url: str) -> str:
        """`base_url` with the AWSCURRENT database user and password, when there is one."""
        found = self.current("db")
        parsed = make_url(base_url)
        if found is None or parsed.get_backend_name() != "postgresql":
            return base_url
        creds = json.loads(found[1])
        return parsed.set(
            username=creds["username"],
            password=creds["password"],
            host=creds.get("host", parsed.host),
            port=creds.get("port", parsed.port),
            database=creds.get("dbname", parsed.database),
        ).render_as_string(hide_password=False)


def swap_engine(app: App, base_url: str) -> bool:
    """Connect with the store's current database credentials if they changed."""
    secrets = app.rotation
    if secrets is None:
        return False
    url = secrets.database_url(base_url)
    if url == app.engine.url.render_as_string(hide_password=False):
        return False
    old, app.engine = app.engine, make_engine(url)
    threading.Thread(target=retire_engine, args=(old,), daemon=True).start()
    return True


RETIRE_TIMEOUT_S = 60.0


def retire_engine(old: Engine) -> None:
    """Log the old credentials out once the requests holding their connections are done.

    `Engine.dispose()` closes only the idle connections: one checked out at that moment
    goes back to the discarded pool when its request ends and stays logged in as the old
    role. So the old pool is set aside, and closed once nothing is checked out of it.
    """
    pool = old.pool
    old.dispose(close=False)
    deadline = time.monotonic() + RETIRE_TIMEOUT_S
    while pool.checkedout() > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    pool.dispose()
    old.dispose()


def reload_secrets(app: App, base_url: str) -> None:
    """SIGHUP: read the store now and reconnect if the database credentials moved."""
    if app.rotation is not None:
        with app.rotation.lock:
            app.rotation.read()
        swap_engine(app, base_url)


def auth_failed(exc: SQLAlchemyError) -> bool:
    return "authentication failed" in str(getattr(exc, "orig", exc))


def with_reauth(app: App, call: Callable[[], Any]) -> Any:
    """Run `call`; if the database refused our password, re-read the store and retry once."""
    used = app.engine
    try:
        return call()
    except SQLAlchemyError as exc:
        if app.rotation is None or not auth_failed(exc):
            raise
        app.rotation.reread()
        with app.rotation.lock:
            swap_engine(app, app.base_url)
        if app.engine is used:
            raise
        return call()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text_: str) -> bytes:
    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))


def sign_token(key: str, kid: str, claims: dict[str, Any]) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64url(json.dumps(claims).encode())
    mac = hmac.new(key.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64url(mac)}"


def verify_token(secrets: RotatingSecrets, token: str) -> dict[str, Any]:
    """Claims of an HS256 token whose `kid` is a staged signing key, else HttpError 401."""
    try:
        header_b64, body_b64, mac_b64 = token.split(".")
        header = json.loads(_unb64url(header_b64))
        claims = json.loads(_unb64url(body_b64))
        kid = str(header["kid"])
    except (ValueError, KeyError, TypeError):
        raise HttpError(401, "The bearer token is not a well-formed JWT.") from None
    keys = secrets.staged("jwt")
    if kid not in keys and secrets.reread():
        keys = secrets.staged("jwt")
    if kid not in keys or header.get("alg") != "HS256":
        raise HttpError(401, "The token's signing key is not a current or previous key.")
    mac = hmac.new(keys[kid].encode(), f"{header_b64}.{body_b64}".encode(), hashlib.sha256)
    if not hmac.compare_digest(_b64url(mac.digest()), mac_b64):
        raise HttpError(401, "The token's signature does not verify.")
    if float(claims.get("exp", 0)) < time.time():
        raise HttpError(401, "The token has expired.")
    return claims


def auth_route(app: App, method: str, path: str, body: bytes, authorization: str | None):
    """POST /auth/token {"user_id": n} signs with AWSCURRENT; GET /auth/verify checks one."""
    secrets = app.rotation
    try:
        if secrets is None:
            raise HttpError(503, "No secret store is configured (PETSWIPE_SECRETS_FILE).")
        if path == "/auth/token" and method == "POST":
            current = secrets.current("jwt")
            if current is None:
                raise HttpError(503, "No JWT signing key yet; rotate the jwt secret first.")
            try:
                user_id = int(json.loads(body or b"{}")["user_id"])
            except (ValueError, KeyError, TypeError):
                raise HttpError(400, "Send a JSON body with an integer user_id.") from None
            claims = {"sub": str(user_id), "exp": int(time.time()) + 3600}
            return 200, {"token": sign_token(current[1], current[0], claims), "kid": current[0]}
        if path == "/auth/verify" and method == "GET":
            scheme, _, token = (authorization or "").partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise HttpError(401, "Send an Authorization: Bearer <token> header.")
            claims = verify_token(secrets, token.strip())
            return 200, {"valid": True, "sub": claims.get("sub")}
        raise HttpError(404, f"No auth route matches {method} {path}.")
    except HttpError as exc:
        return exc.status, {"error": str(exc)}


def rotating_secrets_from_env() -> RotatingSecrets | None:
    path = os.environ.get("PETSWIPE_SECRETS_FILE", "").strip()
    if not path:
        return None
    return RotatingSecrets(
        path,
        os.environ.get("PETSWIPE_DB_SECRET", ""),
        os.environ.get("PETSWIPE_API_KEY_SECRET", ""),
        os.environ.get("PETSWIPE_JWT_SECRET", ""),
    )


# --- end of rotated secrets ---------------------------------------------------------


# --- Feature flags: AppConfig's FeatureFlags document, re-read every few seconds ---------
# PETSWIPE_FLAGS_FILE holds the newest flag version. A flag is on for a user when it is
# enabled and a stable hash of (flag, user id) falls under its rollout_percentage, so the
# same users keep it as the percentage grows. Requests that evaluated a flag are counted
# per flag and state (on/off) for the rollout gate and the analytics.

FLAG_CONTEXT = threading.local()


class FlagSet:
    def __init__(self, path: str, refresh_seconds: float, registry: CollectorRegistry) -> None:
        self.path = path
        self.refresh_seconds = refresh_seconds
        self.values: dict[str, dict[str, Any]] = {}
        self.mtime = -1.0
        self.checked_at = 0.0
        self.lock = threading.Lock()
        self.faults = flag_faults()
        self.requests = Counter(
            "petswipe_flag_requests",
            "API requests that evaluated a flag, by flag, state (on/off) and status code.",
            ["flag", "state", "code"],
            registry=registry,
        )
        self.duration = Histogram(
            "petswipe_flag_request_duration_seconds",
            "Latency of requests that evaluated a flag, by flag and state.",
            ["flag", "state"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.checked_at < self.refresh_seconds:
            return
        with self.lock:
            self.checked_at = now
            try:
                mtime = os.stat(self.path).st_mtime
                if mtime == self.mtime:
                    return
                with open(self.path) as source:
                    document = json.load(source)
            except (OSError, ValueError):
                return
            self.values, self.mtime = dict(document.get("values", {})), mtime

    def on_for(self, flag: str, user_id: int) -> bool:
        self.refresh()
        value = self.values.get(flag, {})
        if not value.get("enabled"):
            return False
        digest = hashlib.sha256(f"{flag}:{user_id}".encode()).hexdigest()
        return int(digest[:8], 16) % 10000 < float(value.get("rollout_percentage", 100)) * 100

    def observe(self, status: int, seconds: float) -> None:
        for flag, on in getattr(FLAG_CONTEXT, "seen", {}).items():
            state = "on" if on else "off"
            self.requests.labels(flag=flag, state=state, code=str(status)).inc()
            self.duration.labels(flag=flag, state=state).observe(seconds)


def flag_faults() -> dict[str, float]:
    """PETSWIPE_FAULT_FLAG=<flag>:<error rate>: the flagged code path fails that often."""
    raw = os.environ.get("PETSWIPE_FAULT_FLAG", "").strip()
    if not raw:
        return {}
    flag, _, rate = raw.partition(":")
    try:
        value = float(rate)
    except ValueError:
        value = -1.0
    if not flag or not 0.0 <= value <= 1.0:
        fail(f"PETSWIPE_FAULT_FLAG={raw!r} is invalid; set it to <flag>:<rate between 0 and 1>.")
    return {flag: value}


def flag_on(app: App, flag: str, query: dict[str, list[str]]) -> bool:
    """Evaluate `flag` for the request's ?user_id= (no user: off, and not counted)."""
    flags = app.flags
    raw = query.get("user_id")
    if flags is None or not raw:
        return False
    try:
        user_id = int(raw[0])
    except ValueError:
        raise HttpError(400, "Query parameter user_id must be an integer.") from None
    on = flags.on_for(flag, user_id)
    seen = getattr(FLAG_CONTEXT, "seen", None)
    if seen is not None:
        seen[flag] = on
    if on and random.random() < flags.faults.get(flag, 0.0):
        raise HttpError(500, f"Injected fault on the {flag} code path (PETSWIPE_FAULT_FLAG).")
    return on


def flag_set_from_env(registry: CollectorRegistry) -> FlagSet | None:
    path = os.environ.get("PETSWIPE_FLAGS_FILE", "").strip()
    if not path:
        return None
    raw = os.environ.get("PETSWIPE_FLAGS_REFRESH_SECONDS", "2")
    try:
        refresh = float(raw)
    except ValueError:
        fail(f"PETSWIPE_FLAGS_REFRESH_SECONDS={raw!r} is invalid; set it to seconds.")
    return FlagSet(path, refresh, registry)


# --- end of feature flags -----------------------------------------------------------


# --- Static assets and images, for the edge cache in front of the router -------------
# Rendered on request with the time they were rendered, so a refetch after an
# invalidation is visibly a new copy. /static/app.css has no Cache-Control (the edge's
# default applies); /static/app.<build>.js says two years (the edge caps it at one).

ASSET_STARTED = datetime.now().astimezone()


def asset(path: str, version: str) -> tuple[int, bytes, str, dict[str, str]] | None:
    """(status, body, content type, extra headers) for an asset path, or None."""
    stamp = datetime.now().astimezone().isoformat(timespec="microseconds")
    if path == "/static/app.css":
        body = f"/* petswipe {version} rendered {stamp} */\nbody {{ font-family: sans-serif; }}\n"
        return 200, body.encode(), "text/css", {}
    if re.fullmatch(r"/static/app\.[0-9a-f]{8}\.js", path):
        body = f"/* petswipe {version} rendered {stamp} */\nexport const ready = true;\n"
        return (
            200,
            body.encode(),
            "application/javascript",
            {"Cache-Control": "public, max-age=63072000, immutable"},
        )
    match = re.fullmatch(r"/images/pets/(\d+)\.svg", path)
    if match:
        pet = match.group(1)
        body = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
            f"<!-- pet {pet}, petswipe {version}, rendered {stamp} -->"
            f'<circle cx="32" cy="32" r="30" fill="#{int(pet) * 2654435761 % 0xFFFFFF:06x}"/>'
            "</svg>"
        )
        return 200, body.encode(), "image/svg+xml", {}
    return None


# --- end of static assets -----------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server_version = "PetSwipe"
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm the body waits for the
    # client's delayed ACK of the headers (about 40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True
    app: App

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs would drown the pipeline's own output under load."""

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _serve(self) -> None:
        start = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        app = self.app
        if path.startswith("/api/") or path == "/api":
            FLAG_CONTEXT.seen = {}
            route, status, payload = app.api(
                self.command, path, parse_qs(parts.query), body, self.headers.get("X-API-Key")
            )
            try:
                self._json(status, payload)
            finally:
                app.metrics.observe(route, status, time.perf_counter() - start)
                if app.flags is not None:
                    app.flags.observe(status, time.perf_counter() - start)
        elif path.startswith(("/static/", "/images/")) and (found := asset(path, app.version)):
            self._send(*found)
        elif path.startswith("/auth/"):
            auth = self.headers.get("Authorization")
            self._json(*auth_route(app, self.command, path, body, auth))
        elif path == "/health":
            self._json(*app.health())
        elif path == "/version":
            self._json(200, {"version": app.version})
        elif path == "/metrics":
            self._send(200, generate_latest(app.metrics.registry), CONTENT_TYPE_LATEST)
        else:
            self._json(404, {"error": f"No route matches {path}."})

    def _dispatch(self) -> None:
        """Serve one request, counted in flight; once the server drains, close the connection
        after the answer so the router opens its next one to a process that keeps running."""
        server = self.server
        assert isinstance(server, Server)
        with server.in_flight():
            self._serve()
        if server.draining.is_set():
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


DRAIN_SECONDS = 8.0
"""How long a stopping service lets requests in flight finish; under the 10 s the sandbox
waits after SIGTERM before it kills."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draining = threading.Event()
        self._busy = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def drain(self) -> None:
        """Stop accepting and close the listening socket (the router's next connection is
        refused and retried elsewhere); `serve` then waits for the requests being served, so
        a stop during a release's traffic move fails no user request."""
        self.draining.set()
        self.shutdown()
        self.socket.close()

    def serve(self) -> None:
        self.serve_forever(poll_interval=0.2)
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=DRAIN_SECONDS)


def fail(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def read_faults() -> Faults:
    values: dict[str, float] = {}
    for env, field, upper in (
        ("PETSWIPE_FAULT_ERROR_RATE", "error_rate", 1.0),
        ("PETSWIPE_FAULT_LATENCY_MS", "latency_ms", 600_000.0),
        ("PETSWIPE_FAULT_CLIENT_ERROR_RATE", "client_error_rate", 1.0),
    ):
        raw = os.environ.get(env, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= upper:
            fail(f"{env}={raw!r} is invalid; set it to a number between 0 and {upper:g}.")
        values[field] = value
    return Faults(**values)


def warm_pool(engine: Engine) -> None:
    """Open the pool's connections before the first request. A candidate starts at a small
    share of traffic with one or two connections; when its weight jumps, opening the rest
    under load (and each new database session's first look at the tables) would make its
    first second at the new weight slower than the stable's, and the latency gate would see
    the warm-up, not the version."""
    connections = [engine.connect() for _ in range(POOL_SIZE)]
    for connection in connections:
        for table in (users, pets, swipes, matches):
            connection.execute(select(table).limit(1)).all()
        connection.close()


def check_schema(engine: Engine, url: str) -> None:
    try:
        present = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(
            f"Cannot reach the database at {masked(url)} ({first}); "
            "check --database-url or PETSWIPE_DATABASE_URL."
        )
    missing = [t for t in TABLES if t not in present]
    if missing:
        fail(
            f"The database at {masked(url)} has no {', '.join(missing)} table(s); "
            "run the migrations (upgrade to head) before starting the service."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reference PetSwipe service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--version", default="dev")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PETSWIPE_DATABASE_URL", "sqlite:///petswipe.db"),
    )
    args = parser.parse_args(argv)
    faults = read_faults()
    rotation = rotating_secrets_from_env()
    try:
        engine = make_engine(args.database_url)
    except (ArgumentError, ImportError) as exc:
        fail(f"--database-url is not a usable SQLAlchemy URL ({exc}).")

    Handler.app = App(engine, args.version, os.environ.get("PETSWIPE_API_KEY") or None, faults)
    Handler.app.rotation = rotation
    Handler.app.flags = flag_set_from_env(Handler.app.metrics.registry)
    swap_engine(Handler.app, args.database_url)
    check_schema(Handler.app.engine, args.database_url)
    warm_pool(Handler.app.engine)
    try:
        server = Server((args.host, args.port), Handler)
    except OSError as exc:
        fail(f"Cannot listen on {args.host}:{args.port} ({exc.strerror}); pick a free port.")

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.drain, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app = Handler.app
    signal.signal(
        signal.SIGHUP,
        lambda _s, _f: threading.Thread(
            target=reload_secrets, args=(app, args.database_url), daemon=True
        ).start(),
    )
    port = server.server_address[1]
    print(f"petswipe {args.version} listening on {args.host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve()
    finally:
        server.server_close()
        Handler.app.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
