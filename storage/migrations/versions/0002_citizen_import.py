"""citizen import: the municipality's reference and the number of relatives to invite

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite cannot add a unique constraint with ALTER TABLE, so it copies the table.
    with op.batch_alter_table("citizens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_ref", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("relatives_wanted", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_unique_constraint(batch_op.f("uq_citizens_external_ref"), ["external_ref"])


def downgrade() -> None:
    with op.batch_alter_table("citizens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_citizens_external_ref"), type_="unique")
        batch_op.drop_column("relatives_wanted")
        batch_op.drop_column("external_ref")
