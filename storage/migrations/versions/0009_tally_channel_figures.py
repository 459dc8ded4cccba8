"""a closed round's tallies count each person's theme items and T-ILS sum per channel too

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round_tallies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_answered", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("channel_tils_total", sa.Float(), nullable=True))
    # A person who answered in one channel has the same figures in it as in all: true of
    # every tally counted before the web, whose rows all say Telegram.
    op.execute(
        "UPDATE round_tallies SET channel_answered = answered, channel_tils_total = tils_total"
    )
    # A round with web answers may have people who used both: its tally is dropped and the
    # housekeeping job counts it again from the answers (a round purged by retention has
    # no answers left, and none of its answers came by the web).
    web_rounds = (
        "SELECT DISTINCT deliveries.round_id FROM deliveries "
        "JOIN answers ON answers.delivery_id = deliveries.id WHERE answers.channel = 'web'"
    )
    op.execute(f"DELETE FROM round_tallies WHERE round_id IN ({web_rounds})")
    op.execute(f"DELETE FROM round_delivery_tallies WHERE round_id IN ({web_rounds})")
    op.execute(f"UPDATE rounds SET tallied_at = NULL WHERE id IN ({web_rounds})")


def downgrade() -> None:
    with op.batch_alter_table("round_tallies", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("channel_tils_total")
        batch_op.drop_column("channel_answered")
