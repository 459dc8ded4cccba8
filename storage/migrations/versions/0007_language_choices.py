"""language chosen before joining

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "language_choices",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("chosen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("telegram_user_id", name=op.f("pk_language_choices")),
    )
    with op.batch_alter_table("language_choices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_language_choices_chosen_at"), ["chosen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("language_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_language_choices_chosen_at"))
    op.drop_table("language_choices")
