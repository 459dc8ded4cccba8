"""rounds at scale

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("every", sa.String(length=100), nullable=False),
        sa.Column("open_days", sa.Integer(), nullable=False),
        sa.Column("next_run_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_table(
        "sender_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sender_leases")),
    )
    op.create_table(
        "round_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("unit_ids", sa.JSON(), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=True),
        sa.Column("audience", sa.String(length=20), nullable=True),
        sa.Column("closes_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["telegram_accounts.id"],
            name=op.f("fk_round_drafts_account_id_telegram_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_drafts")),
        sa.UniqueConstraint("account_id", name=op.f("uq_round_drafts_account_id")),
    )
    op.create_table(
        "schedule_units",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_units_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_schedule_units_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "unit_id", name=op.f("pk_schedule_units")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reminders_sent", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("next_reminder_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_deliveries_next_reminder_at"), ["next_reminder_at"], unique=False
        )

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_days", sa.JSON(), server_default="[3, 7]", nullable=False)
        )
        batch_op.add_column(
            sa.Column("started_by", sa.String(length=40), server_default="cli", nullable=False)
        )
        batch_op.add_column(sa.Column("schedule_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_rounds_schedule_id"), ["schedule_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_schedule_id_schedules"),
            "schedules",
            ["schedule_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rounds_schedule_id_schedules"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_rounds_schedule_id"))
        batch_op.drop_column("schedule_id")
        batch_op.drop_column("started_by")
        batch_op.drop_column("reminder_days")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_next_reminder_at"))
        batch_op.drop_column("next_reminder_at")
        batch_op.drop_column("reminders_sent")
        batch_op.drop_column("next_attempt_at")

    op.drop_table("schedule_units")
    op.drop_table("round_drafts")
    op.drop_table("sender_leases")
    op.drop_table("schedules")
