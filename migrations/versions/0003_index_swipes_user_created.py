"""Index swipes by (user_id, created_at) for a user's recent-swipe lookups.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_index("ix_swipes_user_id_created_at", "swipes", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_swipes_user_id_created_at", table_name="swipes")
