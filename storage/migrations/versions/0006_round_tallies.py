"""round tallies: a closed round's answers and deliveries counted once

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("unit_kind", sa.String(length=20), nullable=False),
        sa.Column("proxy", sa.Boolean(), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("answered", sa.Integer(), nullable=True),
        sa.Column("tils_total", sa.Float(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_round_tallies_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_tallies")),
    )
    with op.batch_alter_table("round_tallies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_tallies_round_id"), ["round_id"], unique=False)
    op.create_table(
        "round_delivery_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proxy", sa.Boolean(), nullable=False),
        sa.Column("has_answers", sa.Boolean(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["rounds.id"],
            name=op.f("fk_round_delivery_tallies_round_id_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_delivery_tallies")),
    )
    with op.batch_alter_table("round_delivery_tallies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_round_delivery_tallies_round_id"), ["round_id"], unique=False
        )
    # Rounds closed before this revision get their tally from the housekeeping job.
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tallied_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("tallied_at")
    with op.batch_alter_table("round_delivery_tallies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_delivery_tallies_round_id"))
    op.drop_table("round_delivery_tallies")
    with op.batch_alter_table("round_tallies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_tallies_round_id"))
    op.drop_table("round_tallies")
