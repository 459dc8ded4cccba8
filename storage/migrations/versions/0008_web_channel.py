"""answering on the web: channels, web accounts, derived letter links, code throttling

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every answer given so far came through Telegram.
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=10), server_default="telegram", nullable=False)
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=10), nullable=True))
    op.execute("UPDATE deliveries SET channel = 'telegram' WHERE status = 'completed'")
    with op.batch_alter_table("round_tallies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=10), server_default="telegram", nullable=False)
        )
    with op.batch_alter_table("round_delivery_tallies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=10), nullable=True))
    op.execute("UPDATE round_delivery_tallies SET channel = 'telegram' WHERE status = 'completed'")
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("respondent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("salt", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("code_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_invites_respondent_id"), ["respondent_id"], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f("uq_invites_code_hash"), ["code_hash"])
        batch_op.create_foreign_key(
            batch_op.f("fk_invites_respondent_id_respondents"),
            "respondents",
            ["respondent_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "web_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("informed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_web_accounts_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_accounts")),
        sa.UniqueConstraint("respondent_id", name=op.f("uq_web_accounts_respondent_id")),
    )
    op.create_table(
        "web_code_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_code_failures")),
    )
    with op.batch_alter_table("web_code_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_code_failures_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_web_code_failures_client_hash"), ["client_hash"], unique=False
        )


def downgrade() -> None:
    # Columns go by ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not by copying the table:
    # on SQLite a copy drops the old table, and its foreign keys would take the answers.
    with op.batch_alter_table("web_code_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_code_failures_client_hash"))
        batch_op.drop_index(batch_op.f("ix_web_code_failures_at"))
    op.drop_table("web_code_failures")
    op.drop_table("web_accounts")
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_invites_respondent_id_respondents"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_invites_code_hash"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_invites_respondent_id"))
        batch_op.drop_column("code_hash")
        batch_op.drop_column("salt")
        batch_op.drop_column("respondent_id")
    with op.batch_alter_table("round_delivery_tallies", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("round_tallies", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("deliveries", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("answers", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("channel")
