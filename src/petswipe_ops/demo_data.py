"""Demo data for PetSwipe's database: users, pets, swipes and matches, generated in SQL.

The rows are made by the database itself (generate_series on PostgreSQL, a recursive CTE on
SQLite), so a million rows take seconds; values are deterministic, and created_at spreads
over the last `spread_hours` so the newest row is fresh.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool


class DemoSize(BaseModel):
    users: int = Field(200, ge=0)
    pets: int = Field(300, ge=0)
    swipes: int = Field(2000, ge=0)
    matches: int = Field(100, ge=0)
    spread_hours: int = Field(12, ge=1)

    @property
    def total(self) -> int:
        return self.users + self.pets + self.swipes + self.matches


def _series(dialect: str) -> str:
    if dialect == "postgresql":
        return (
            "SELECT g AS n FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS g"
        )
    return (
        "WITH RECURSIVE s(n) AS (SELECT :start UNION ALL SELECT n + 1 FROM s WHERE n < :stop) "
        "SELECT n FROM s"
    )


def _ago(dialect: str, spread_seconds: int) -> str:
    offset = f"((n * 7919) % {spread_seconds})"
    if dialect == "postgresql":
        return f"now() - make_interval(secs => {offset})"
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || {offset} || ' seconds')"


def _max_id(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()


def seed(url: str, size: DemoSize) -> dict[str, int]:
    """Insert `size` more rows into each table; return how many went in."""
    engine = create_engine(url, poolclass=NullPool)
    dialect = engine.dialect.name
    ago = _ago(dialect, size.spread_hours * 3600)
    ignore = "INSERT OR IGNORE" if dialect == "sqlite" else "INSERT"
    conflict = "" if dialect == "sqlite" else " ON CONFLICT DO NOTHING"
    species = (
        "(ARRAY['dog','cat','rabbit'])[1 + n % 3]"
        if dialect == "postgresql"
        else "CASE n % 3 WHEN 0 THEN 'dog' WHEN 1 THEN 'cat' ELSE 'rabbit' END"
    )
    try:
        start = {t: _max_id(engine, t) + 1 for t in ("users", "pets", "swipes", "matches")}
        statements = [
            (
                "users",
                size.users,
                f"INSERT INTO users (id, name, email, created_at) SELECT n, 'User ' || n, "
                f"'user' || n || '@example.com', {ago} FROM ({_series(dialect)}) AS s",
            ),
            (
                "pets",
                size.pets,
                f"INSERT INTO pets (id, name, species, breed, age_months, shelter, created_at) "
                f"SELECT n, 'Pet ' || n, {species}, 'Mixed', 2 + n % 120, 'City Paws', {ago} "
                f"FROM ({_series(dialect)}) AS s",
            ),
        ]
        with engine.begin() as conn:
            for table, count, sql in statements:
                if count:
                    conn.execute(
                        text(sql), {"start": start[table], "stop": start[table] + count - 1}
                    )
            users = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM users")).scalar_one()
            pets = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM pets")).scalar_one()
            if size.swipes and users and pets:
                conn.execute(
                    text(
                        "INSERT INTO swipes (id, user_id, pet_id, direction, created_at) "
                        f"SELECT n, 1 + (n * 31) % :users, 1 + (n * 17) % :pets, "
                        f"CASE WHEN n % 3 = 0 THEN 'like' ELSE 'pass' END, {ago} "
                        f"FROM ({_series(dialect)}) AS s"
                    ),
                    {
                        "start": start["swipes"],
                        "stop": start["swipes"] + size.swipes - 1,
                        "users": users,
                        "pets": pets,
                    },
                )
            if size.matches and users and pets:
                conn.execute(
                    text(
                        f"{ignore} INTO matches (id, user_id, pet_id, created_at) "
                        f"SELECT n, 1 + n % :users, 1 + (n / :users) % :pets, {ago} "
                        f"FROM ({_series(dialect)}) AS s{conflict}"
                    ),
                    {
                        "start": start["matches"],
                        "stop": start["matches"] + size.matches - 1,
                        "users": users,
                        "pets": pets,
                    },
                )
            if dialect == "postgresql":
                for table in start:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                        )
                    )
        return {t: _max_id(engine, t) - start[t] + 1 for t in start}
    finally:
        engine.dispose()
