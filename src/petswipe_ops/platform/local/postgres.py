"""PostgreSQL from the Debian binaries: a cluster of our own, dumps, restores and scratch databases.

initdb refuses to run as root, so as root a cluster is owned by and run as the
``postgres`` system user, in a folder under the system temp dir that user can reach.
Passwords travel to pg_dump / pg_restore in ``PGPASSWORD``, never on a command line.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url
from sqlalchemy.engine import URL

from petswipe_ops.errors import MissingBinaryError, OpsError, SandboxError
from petswipe_ops.proc import find_binary, run

INSTALL_HINT = (
    "install PostgreSQL's server binaries with 'sudo apt-get install postgresql' "
    "(or set PETSWIPE_PG_BIN to the folder holding them)"
)
DUMP_TIMEOUT_S = 3600
SUPERUSER = "postgres"


def pg_binary(name: str) -> str:
    """`name` from PETSWIPE_PG_BIN, PATH, or the newest /usr/lib/postgresql/*/bin."""
    folder = os.environ.get("PETSWIPE_PG_BIN")
    if folder:
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise MissingBinaryError(
            f"{name} was not found in {folder} (PETSWIPE_PG_BIN); {INSTALL_HINT}."
        )
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    return find_binary(
        name,
        env_var=f"PETSWIPE_{name.upper()}_BIN",
        install_hint=INSTALL_HINT,
        extra=[Path(v) / name for v in versions],
    )


def _owner_prefix() -> list[str]:
    """The command prefix that runs a server binary as a non-root user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise SandboxError(
            "running as root and no 'postgres' system user exists to own the cluster; "
            "install the postgresql package, which creates it."
        ) from None
    return ["runuser", "-u", SUPERUSER, "--"]


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SUPERUSER)
        os.chown(path, owner.pw_uid, owner.pw_gid)


def cluster_home(run_dir: Path) -> Path:
    """Where the cluster of a run folder lives: inside it, or (as root) in the temp dir,
    since the postgres user cannot enter a root-only folder such as pytest's."""
    if os.geteuid() != 0:
        return run_dir / "postgres"
    digest = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"petswipe-pg-{digest}"


class PostgresCluster:
    """One PostgreSQL cluster in `home`, listening on 127.0.0.1:`port` only."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.data = home / "data"
        self.log = home / "server.log"

    def url(self, database: str, password: str, driver: str = "postgresql+psycopg") -> str:
        return URL.create(
            driver, SUPERUSER, password, "127.0.0.1", self.port, database
        ).render_as_string(hide_password=False)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def init(self, password: str) -> None:
        """initdb with scram-sha-256 and `password` for the postgres superuser."""
        prefix = _owner_prefix()
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        _chown(self.home)
        pwfile = self.home / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        _chown(pwfile)
        try:
            run(
                [
                    *prefix,
                    pg_binary("initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    SUPERUSER,
                    "-A",
                    "scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ],
                timeout=120,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = run(
            [*_owner_prefix(), pg_binary("pg_ctl"), "-D", str(self.data), "status"],
            timeout=30,
            check=False,
        )
        return result.returncode == 0

    def start(self) -> None:
        if self.running():
            return
        options = (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        result = run(
            [
                *_owner_prefix(),
                pg_binary("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
            check=False,
        )
        if result.returncode != 0:
            tail = self.log.read_text().strip()[-300:] if self.log.exists() else result.stderr
            raise SandboxError(
                f"PostgreSQL did not start on port {self.port}: {tail}; is the port free?"
            )

    def stop(self) -> None:
        if not self.initialised():
            return
        run(
            [
                *_owner_prefix(),
                pg_binary("pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            timeout=60,
            check=False,
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


class SandboxPostgres:
    """The sandbox's own cluster: its password is made once and kept in the run folder."""

    DATABASE = "petswipe"

    def __init__(self, run_dir: Path, port: int) -> None:
        self.cluster = PostgresCluster(cluster_home(run_dir), port)
        self.password_file = self.cluster.home / "superuser.password"

    def password(self, create: bool = False) -> str:
        """Kept beside the cluster it opens, readable by its owner only; made by `up`."""
        if not self.password_file.is_file():
            if not create:
                return ""
            self.password_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.password_file.touch(mode=0o600)
            self.password_file.write_text(secrets.token_urlsafe(24))
        return self.password_file.read_text().strip()

    @property
    def url(self) -> str:
        return self.cluster.url(self.DATABASE, self.password())

    def up(self) -> None:
        """Create the cluster and the service's database when missing, then start it."""
        password = self.password(create=True)
        if not self.cluster.initialised():
            self.cluster.init(password)
        self.cluster.start()
        create_database(self.url, self.DATABASE, exist_ok=True)

    def down(self) -> None:
        self.cluster.stop()


def _admin_conninfo(url: str) -> str:
    """libpq connection string to the server's maintenance database, password included."""
    parsed = make_url(url)
    return psycopg.conninfo.make_conninfo(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or SUPERUSER,
        password=parsed.password or "",
        dbname="postgres",
        connect_timeout=10,
    )


@contextmanager
def _admin(url: str) -> Iterator[psycopg.Connection]:
    """A connection to the server's maintenance database; failures are one sentence."""
    parsed = make_url(url)
    try:
        with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
            yield conn
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise OpsError(
            f"PostgreSQL at {parsed.host}:{parsed.port} refused the request ({detail}); "
            "check that it runs and that the URL's user and password are right."
        ) from None


def create_database(url: str, name: str, *, exist_ok: bool = False) -> None:
    with _admin(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and exist_ok:
            return
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str, name: str) -> None:
    with _admin(url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _client_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection flags for pg_dump / pg_restore and the environment carrying the password."""
    parsed = make_url(url)
    args = [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or SUPERUSER,
        "-d",
        parsed.database or "postgres",
        "--no-password",
    ]
    return args, {"PGPASSWORD": parsed.password or "", "PGCONNECT_TIMEOUT": "10"}


def dump(url: str, target: Path) -> None:
    """pg_dump in the custom format (compressed, restorable table by table)."""
    args, env = _client_args(url)
    run([pg_binary("pg_dump"), "-Fc", *args, "-f", str(target)], timeout=DUMP_TIMEOUT_S, env=env)


def restore(url: str, source: Path) -> None:
    """pg_restore a custom-format dump into the (empty) database `url` names."""
    args, env = _client_args(url)
    run(
        [
            pg_binary("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            *args,
            str(source),
        ],
        timeout=DUMP_TIMEOUT_S,
        env=env,
    )


@contextmanager
def scratch_database(url: str, prefix: str = "petswipe_restore") -> Iterator[str]:
    """A fresh database on the server of `url`, dropped afterwards whatever happens."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    create_database(url, name)
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(url, name)
