"""What setSecret and testSecret mean for each kind of secret.

The database uses alternating users: two login roles take turns, so the one in
AWSCURRENT keeps its password while the other gets the new one; a service still on
AWSPREVIOUS keeps working until it re-reads the secret. API keys and JWT signing keys
are accepted by the service in all three stages, so setting one is a reload and
testing it is a request that must pass with the pending value.
"""

from __future__ import annotations

import json
import secrets as pysecrets
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import httpx
import psycopg
from psycopg import sql
from pydantic import BaseModel, SecretStr

from petswipe_ops import http_client
from petswipe_ops.errors import OpsError
from petswipe_ops.secrets import jwt
from petswipe_ops.secrets.model import SecretKind

ROLES = ("petswipe_app_a", "petswipe_app_b")
SERVICE_WAIT_S = 10.0


class TargetError(OpsError):
    """setSecret or testSecret failed; AWSCURRENT is untouched."""


class RotationTarget(Protocol):
    kind: SecretKind

    def generate(self, current: SecretStr | None) -> SecretStr: ...

    def set(self, pending: SecretStr, version_id: str) -> str: ...

    def test(self, pending: SecretStr, version_id: str) -> str: ...

    def finished(self) -> str: ...


class DbCredentials(BaseModel):
    engine: str = "postgres"
    host: str
    port: int
    dbname: str
    username: str
    password: SecretStr

    def dump(self) -> SecretStr:
        data = self.model_dump()
        data["password"] = self.password.get_secret_value()
        return SecretStr(json.dumps(data))

    @classmethod
    def load(cls, raw: SecretStr) -> DbCredentials:
        return cls.model_validate(json.loads(raw.get_secret_value()))

    def conninfo(self, dbname: str | None = None) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.host,
            port=self.port,
            user=self.username,
            password=self.password.get_secret_value(),
            dbname=dbname or self.dbname,
            connect_timeout=10,
        )


def _pg_detail(exc: psycopg.Error) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


class PostgresAlternatingUsers:
    """Two application roles on one PostgreSQL database, administered by `admin`."""

    kind = SecretKind.DB

    def __init__(self, admin: DbCredentials, reload: Callable[[], str] | None = None) -> None:
        self.admin = admin
        self.reload = reload

    def generate(self, current: SecretStr | None) -> SecretStr:
        user = ROLES[0]
        if current is not None:
            now = DbCredentials.load(current).username
            user = ROLES[1] if now == ROLES[0] else ROLES[0]
        return DbCredentials(
            host=self.admin.host,
            port=self.admin.port,
            dbname=self.admin.dbname,
            username=user,
            password=SecretStr(pysecrets.token_urlsafe(24)),
        ).dump()

    def set(self, pending: SecretStr, version_id: str) -> str:
        creds = DbCredentials.load(pending)
        role = sql.Identifier(creds.username)
        try:
            with psycopg.connect(self.admin.conninfo(), autocommit=True) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (creds.username,)
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
                conn.execute(
                    sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                        role, sql.Literal(creds.password.get_secret_value())
                    )
                )
                for statement in (
                    "GRANT CONNECT ON DATABASE {db} TO {role}",
                    "GRANT USAGE ON SCHEMA public TO {role}",
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
                    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                    "GRANT USAGE, SELECT ON SEQUENCES TO {role}",
                ):
                    conn.execute(
                        sql.SQL(statement).format(db=sql.Identifier(creds.dbname), role=role)
                    )
        except psycopg.Error as exc:
            raise TargetError(
                f"PostgreSQL at {self.admin.host}:{self.admin.port} refused to set the password "
                f"of role {creds.username} ({_pg_detail(exc)}); check the admin credentials."
            ) from None
        return f"password of role {creds.username} set (the other role is untouched)"

    def test(self, pending: SecretStr, version_id: str) -> str:
        creds = DbCredentials.load(pending)
        try:
            with psycopg.connect(creds.conninfo(), autocommit=True) as conn:
                conn.execute("SELECT 1").fetchone()
                has_pets = conn.execute("SELECT to_regclass('public.pets')").fetchone()[0]
                if has_pets:
                    conn.execute("SELECT count(*) FROM pets").fetchone()
        except psycopg.Error as exc:
            raise TargetError(
                f"connecting as {creds.username} with the pending password failed "
                f"({_pg_detail(exc)})."
            ) from None
        return f"connected as {creds.username} and read the pets table"

    def finished(self) -> str:
        return self.reload() if self.reload else "services re-read the secret on auth failure"


class ServiceKeys:
    """An API key or a JWT signing key, accepted by every running service version.

    `endpoints` lists the running versions' base URLs; none running means nothing
    needs to reload and the next start reads the store.
    """

    def __init__(
        self,
        kind: SecretKind,
        endpoints: Callable[[], Sequence[str]],
        reload: Callable[[], str] | None = None,
    ) -> None:
        self.kind = kind
        self.endpoints = endpoints
        self.reload = reload

    def generate(self, current: SecretStr | None) -> SecretStr:
        return SecretStr(pysecrets.token_urlsafe(32))

    def set(self, pending: SecretStr, version_id: str) -> str:
        return self.reload() if self.reload else "services re-read the secret on auth failure"

    def _request(self, endpoint: str, pending: SecretStr, version_id: str) -> httpx.Request:
        if self.kind is SecretKind.JWT:
            token = jwt.sign({"sub": "rotation-test"}, pending, version_id, ttl_seconds=60)
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.Request("GET", f"{endpoint}/auth/verify", headers=headers)
        headers = {"X-API-Key": pending.get_secret_value()}
        return httpx.Request("GET", f"{endpoint}/api/pets?limit=1", headers=headers)

    def test(self, pending: SecretStr, version_id: str) -> str:
        targets = list(self.endpoints())
        if not targets:
            return "no service version is running; the next one to start reads the store"
        with http_client.client(timeout=5.0) as client:
            for endpoint in targets:
                deadline = time.monotonic() + SERVICE_WAIT_S
                while True:
                    try:
                        status = client.send(self._request(endpoint, pending, version_id))
                        code = status.status_code
                    except httpx.HTTPError as exc:
                        code, status = 0, type(exc).__name__
                    if code == 200:
                        break
                    if time.monotonic() > deadline:
                        raise TargetError(
                            f"the service at {endpoint} did not accept the pending {self.kind} "
                            f"(answered {code or status}); AWSCURRENT stays in force."
                        )
                    time.sleep(0.2)
        return f"{len(targets)} service version(s) accepted the pending {self.kind}"

    def finished(self) -> str:
        return self.reload() if self.reload else "services re-read the secret on auth failure"


class StoredOnly:
    """AWS API keys and JWT keys: the ECS tasks re-read Secrets Manager on auth failure,
    so there is nothing to set; the test reads the pending version back by its id."""

    def __init__(self, kind: SecretKind, read_back: Callable[[str], SecretStr | None]) -> None:
        self.kind = kind
        self.read_back = read_back

    def generate(self, current: SecretStr | None) -> SecretStr:
        return SecretStr(pysecrets.token_urlsafe(32))

    def set(self, pending: SecretStr, version_id: str) -> str:
        return "services read every staged version; nothing to push"

    def test(self, pending: SecretStr, version_id: str) -> str:
        stored = self.read_back(version_id)
        if stored is None or stored.get_secret_value() != pending.get_secret_value():
            raise TargetError(
                f"the pending {self.kind} version {version_id} does not read back as written."
            )
        return "pending version reads back as written"

    def finished(self) -> str:
        return "services pick the new AWSCURRENT up on their next read"
