"""Seed deterministic sample data: 20 users and 50 pets.

Revision ID: 0002
Revises: 0001

Fixed ids and values so load tests and drills see the same catalogue everywhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

USER_COUNT = 20
PET_COUNT = 50

_NAMES = ["Biscuit", "Luna", "Milo", "Pepper", "Nala", "Oscar", "Willow", "Ziggy", "Mochi", "Rex"]
_BREEDS = {
    "dog": ["Labrador", "Beagle", "Greyhound", "Collie", "Mixed"],
    "cat": ["Tabby", "Siamese", "Maine Coon", "Ragdoll", "Mixed"],
    "rabbit": ["Lop", "Rex", "Dutch", "Lionhead", "Mixed"],
}
_SHELTERS = ["Northside Rescue", "Harbor Animal Shelter", "Green Valley Pets", "City Paws"]

_users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("email")
)
_pets = sa.table(
    "pets",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("species", sa.String),
    sa.column("breed", sa.String),
    sa.column("age_months", sa.Integer),
    sa.column("shelter", sa.String),
)


def _pet(i: int) -> dict[str, object]:
    species = list(_BREEDS)[i % len(_BREEDS)]
    return {
        "id": i,
        "name": f"{_NAMES[i % len(_NAMES)]} {i}",
        "species": species,
        "breed": _BREEDS[species][(i // 3) % 5],
        "age_months": 2 + (i * 7) % 120,
        "shelter": _SHELTERS[i % len(_SHELTERS)],
    }


def upgrade() -> None:
    op.bulk_insert(
        _users,
        [
            {"id": i, "name": f"User {i}", "email": f"user{i}@example.com"}
            for i in range(1, USER_COUNT + 1)
        ],
    )
    op.bulk_insert(_pets, [_pet(i) for i in range(1, PET_COUNT + 1)])
    if op.get_bind().dialect.name == "postgresql":
        for table in ("users", "pets"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )


def downgrade() -> None:
    for table in ("matches", "swipes"):
        op.execute(f"DELETE FROM {table} WHERE user_id <= {USER_COUNT} OR pet_id <= {PET_COUNT}")
    op.execute(f"DELETE FROM pets WHERE id <= {PET_COUNT}")
    op.execute(f"DELETE FROM users WHERE id <= {USER_COUNT}")
