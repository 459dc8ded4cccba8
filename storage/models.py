"""The database schema: one class per table.

Telegram ids live only in ``telegram_accounts``; answers hang off deliveries, which
point at a respondent, never at a Telegram account (domain.md, Privacy).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The enums live in storage.enums (pure Python, so the questionnaire can use them too); the
# models name them here as well, for the code that imports them with the tables.
from storage.enums import OPEN_DELIVERY_STATUSES as OPEN_DELIVERY_STATUSES
from storage.enums import AnswerKind as AnswerKind
from storage.enums import Audience as Audience
from storage.enums import Channel as Channel
from storage.enums import CitizenStatus as CitizenStatus
from storage.enums import DeliveryStatus as DeliveryStatus
from storage.enums import InviteRole as InviteRole
from storage.enums import RoundAudience as RoundAudience
from storage.enums import UnitKind as UnitKind
from storage.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def stored(kind: type[StrEnum]) -> Enum:
    """The column type of one of ``storage.enums``: its value in a VARCHAR(20) without a CHECK,
    exactly the column the migrations made, read back as the enum and refusing other values."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=20,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[UnitKind] = mapped_column(stored(UnitKind))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Citizen(Base):
    __tablename__ = "citizens"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    # The municipality's own reference for the citizen (never a CPR number), so an import
    # can be run again and recognise who is already there.
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    # How many relatives' letters to print for this citizen.
    relatives_wanted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[CitizenStatus] = mapped_column(
        stored(CitizenStatus), default=CitizenStatus.ACTIVE
    )
    left_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="raise")


class TelegramAccount(Base):
    """A Telegram user who has opened an invite: the only table with Telegram ids."""

    __tablename__ = "telegram_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    locale: Mapped[str | None] = mapped_column(String(8))
    informed_at: Mapped[datetime | None]  # accepted the information text
    stopped_at: Mapped[datetime | None]  # /stop, declined, or blocked the bot
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Respondent(Base):
    """A citizen answering for themself, or a relative linked to one citizen."""

    __tablename__ = "respondents"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Audience] = mapped_column(stored(Audience))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_accounts.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen: Mapped[Citizen] = relationship(lazy="raise")


staff_units = Table(
    "staff_units",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[InviteRole] = mapped_column(stored(InviteRole))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    units: Mapped[list[Unit]] = relationship(secondary=staff_units, lazy="raise")


class Invite(Base):
    """An onboarding token; only its SHA-256 (and that of a letter's short code) is stored.

    A letter's token and code are derived from ``salt`` and the server's LINK_SECRET, so a
    reminder can print them again; the database alone reveals neither. Once used, the
    invite names its respondent: the web link keeps working for that person.
    """

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[InviteRole] = mapped_column(stored(InviteRole))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    citizen_id: Mapped[int | None] = mapped_column(
        ForeignKey("citizens.id", ondelete="CASCADE"), index=True
    )
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), index=True
    )
    salt: Mapped[str | None] = mapped_column(String(32))
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebAccount(Base):
    """A respondent's state on the web pages (language, information accepted, stopped);
    one per respondent that used the web. Telegram state stays on ``telegram_accounts``."""

    __tablename__ = "web_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), unique=True
    )
    locale: Mapped[str | None] = mapped_column(String(8))
    informed_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyVersion(Base):
    """An exact copy of a survey definition as it was when a round used it."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


round_units = Table(
    "round_units",
    Base.metadata,
    Column("round_id", ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Round(Base):
    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    audience: Mapped[RoundAudience] = mapped_column(stored(RoundAudience))
    opens_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Days after the invitation at which the unfinished get a reminder (at most two).
    reminder_days: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: [3, 7], server_default="[3, 7]"
    )
    started_by: Mapped[str] = mapped_column(String(40), default="cli", server_default="cli")
    # Anonymous rounds cut the link between a person and their answers once they finish
    # or the round closes.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the round's answers were counted into round_tallies (after it closed); NULL
    # while it is open, and again when someone's answers are deleted from it.
    tallied_at: Mapped[datetime | None]

    survey_version: Mapped[SurveyVersion] = relationship(lazy="raise")
    units: Mapped[list[Unit]] = relationship(secondary=round_units, lazy="raise")


schedule_units = Table(
    "schedule_units",
    Base.metadata,
    Column("schedule_id", ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Schedule(Base):
    """A recurring round: started by whichever process claims ``next_run_at`` first."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64))
    audience: Mapped[RoundAudience] = mapped_column(stored(RoundAudience))
    every: Mapped[str] = mapped_column(String(100))  # quarter, month or a cron expression
    open_days: Mapped[int] = mapped_column(Integer, default=14)
    next_run_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    units: Mapped[list[Unit]] = relationship(secondary=schedule_units, lazy="raise")


class SenderLease(Base):
    """Which process is the one sender (Telegram's limit is per bot, not per process)."""

    __tablename__ = "sender_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]


class RoundDraft(Base):
    """A staff member's /runde choices so far; in the database, so any process continues it."""

    __tablename__ = "round_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("telegram_accounts.id", ondelete="CASCADE"), unique=True
    )
    unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    survey_id: Mapped[str | None] = mapped_column(String(64))
    audience: Mapped[RoundAudience | None] = mapped_column(stored(RoundAudience))
    closes_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RoundParticipant(Base):
    """That a person was invited to a round, kept after the link to their answers is cut,
    so nobody is invited to the same round twice. It says nothing about their answers."""

    __tablename__ = "round_participants"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), primary_key=True
    )


class Delivery(Base):
    """One person's invitation to one round, and where they are in it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("round_id", "respondent_id"),
        Index("ix_deliveries_status_round", "status", "round_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    audience: Mapped[Audience] = mapped_column(stored(Audience))
    unit_kind: Mapped[UnitKind] = mapped_column(stored(UnitKind))
    status: Mapped[DeliveryStatus] = mapped_column(
        stored(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    proxy: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    claimed_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]  # after a network error: retry no earlier
    # The round's reminder days dealt with: sent, or already past when a person reached by
    # letter linked Telegram (they are not made up).
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(10))  # how it was completed
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Answer(Base):
    """One answer per delivery and item; answering again replaces it."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("delivery_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    survey_id: Mapped[str] = mapped_column(String(64))
    survey_version: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[AnswerKind] = mapped_column(stored(AnswerKind))
    value: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(
        String(10), default=Channel.TELEGRAM, server_default=Channel.TELEGRAM.value
    )
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoundTally(Base):
    """A closed round's answers counted once, for reports over many rounds (its
    deliveries are in ``RoundDeliveryTally``).

    One row per group of ``surveys.fieldwork.tallies.answer_groups``: the answers of one
    unit, audience, unit kind and proxy flag to one item with one kind and value, with
    their person's count of the theme's items answered and T-ILS sum, by the answers'
    channel (with the person's count and sum in that channel too). A closed round takes
    no answers, so its groups never change; deleting someone's data, or a citizen leaving,
    drops the round's tally until it is counted again. No row names anyone.
    """

    __tablename__ = "round_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    audience: Mapped[Audience] = mapped_column(stored(Audience))
    unit_kind: Mapped[UnitKind] = mapped_column(stored(UnitKind))
    proxy: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(
        String(10), default=Channel.TELEGRAM, server_default=Channel.TELEGRAM.value
    )
    item_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[AnswerKind] = mapped_column(stored(AnswerKind))
    value: Mapped[int | None] = mapped_column(Integer)
    answered: Mapped[int | None] = mapped_column(Integer)
    tils_total: Mapped[float | None] = mapped_column(Float)
    # ``answered`` and ``tils_total`` over the person's answers in this row's channel alone,
    # for the figures by channel.
    channel_answered: Mapped[int | None] = mapped_column(Integer)
    channel_tils_total: Mapped[float | None] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)


class RoundDeliveryTally(Base):
    """A closed round's deliveries counted once, for its response rates: how many of
    one unit, audience, status and proxy flag, with or without answers. Kept and dropped
    with the round's ``RoundTally`` rows."""

    __tablename__ = "round_delivery_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    audience: Mapped[Audience] = mapped_column(stored(Audience))
    status: Mapped[DeliveryStatus] = mapped_column(stored(DeliveryStatus))
    proxy: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str | None] = mapped_column(String(10))  # of completed deliveries
    has_answers: Mapped[bool] = mapped_column(Boolean)
    count: Mapped[int] = mapped_column(Integer)


class InviteFailure(Base):
    """A wrong invite token tried by a Telegram user; kept a day, to throttle guessing."""

    __tablename__ = "invite_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebCodeFailure(Base):
    """A wrong short code typed on the web: the SHA-256 of the client's address and when;
    kept a day, to throttle guessing per address and across all addresses."""

    __tablename__ = "web_code_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LanguageChoice(Base):
    """A language chosen with /sprog by a Telegram user who has not opened an invite yet:
    used for their information text and moved to their account when they join, else
    forgotten after a while (``storage.housekeeping``)."""

    __tablename__ = "language_choices"

    telegram_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    locale: Mapped[str] = mapped_column(String(8))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update changes nothing."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
