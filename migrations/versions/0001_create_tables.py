"""Create the users, pets, swipes and matches tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
        _created_at(),
    )
    op.create_table(
        "pets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("species", sa.String(50), nullable=False),
        sa.Column("breed", sa.String(100), nullable=True),
        sa.Column("age_months", sa.Integer, nullable=False),
        sa.Column("shelter", sa.String(200), nullable=False),
        _created_at(),
    )
    op.create_table(
        "swipes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("pet_id", sa.Integer, sa.ForeignKey("pets.id"), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        _created_at(),
        sa.CheckConstraint("direction IN ('like', 'pass')", name="ck_swipes_direction"),
    )
    op.create_table(
        "matches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("pet_id", sa.Integer, sa.ForeignKey("pets.id"), nullable=False),
        _created_at(),
        sa.UniqueConstraint("user_id", "pet_id", name="uq_matches_user_pet"),
    )


def downgrade() -> None:
    op.drop_table("matches")
    op.drop_table("swipes")
    op.drop_table("pets")
    op.drop_table("users")
