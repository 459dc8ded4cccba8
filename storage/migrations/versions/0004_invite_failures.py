"""invite failures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invite_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_failures")),
    )
    with op.batch_alter_table("invite_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invite_failures_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invite_failures_telegram_user_id"), ["telegram_user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invite_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invite_failures_telegram_user_id"))
        batch_op.drop_index(batch_op.f("ix_invite_failures_at"))

    op.drop_table("invite_failures")
