"""The outbox: invitations and reminders are written to the database first, and a single
elected sender works through them, so a crash or a second process loses or doubles
no one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Citizen,
    CitizenStatus,
    Delivery,
    DeliveryStatus,
    Respondent,
    Round,
    TelegramAccount,
)
from storage.types import utcnow
from surveys.clock import DANISH_TIME
from surveys.rounds import is_open, next_reminder

# A claim older than this is from a sender that died mid-send; another may take it.
STALE_CLAIM = timedelta(minutes=2)
MAX_ATTEMPTS = 5


class Kind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


@dataclass(frozen=True)
class Outgoing:
    """One message to send: an invitation or a reminder, where to, in which language."""

    kind: Kind
    delivery_id: int
    chat_id: int
    locale: str | None
    closes_at: datetime
    reminder_number: int = 0


@dataclass(frozen=True)
class ContactHours:
    """The hours of the day (Danish time) in which people may be contacted, [start, end)."""

    start: int = 9
    end: int = 19

    @classmethod
    def parse(cls, text: str) -> ContactHours:
        """'09-19' -> 09:00 to 19:00; '00-24' means always."""
        start_text, _, end_text = text.partition("-")
        start, end = int(start_text), int(end_text)
        if not (0 <= start < end <= 24):
            raise ValueError("use HH-HH with 0 <= start < end <= 24, for example 09-19")
        return cls(start, end)

    def allows(self, moment: datetime) -> bool:
        """True when ``moment`` falls inside the window."""
        local = moment.astimezone(DANISH_TIME)
        return self.start <= local.hour < self.end

    def next_opening(self, moment: datetime) -> datetime:
        """The first moment at or after ``moment`` inside the window."""
        if self.allows(moment):
            return moment
        local = moment.astimezone(DANISH_TIME)
        opening = local.replace(hour=self.start, minute=0, second=0, microsecond=0)
        if local.hour >= self.end:
            opening += timedelta(days=1)
        return opening.astimezone(moment.tzinfo)


def _reachable() -> ColumnElement[bool]:
    """The person still takes part: informed, not stopped, and their citizen still here."""
    return and_(
        TelegramAccount.informed_at.is_not(None),
        TelegramAccount.stopped_at.is_(None),
        Citizen.status == CitizenStatus.ACTIVE,
    )


async def reclaim_abandoned(session: AsyncSession) -> int:
    """Put every claimed-but-unsent invitation back in the outbox.

    Called by a sender that has just taken over from another: whatever that one had
    claimed was either never sent or in flight at the moment it died.
    """
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim_due(
    session: AsyncSession, limit: int, *, now: datetime | None = None
) -> list[Outgoing]:
    """Claim up to ``limit`` due invitations and reminders, oldest first.

    Each claim is a guarded update, so even two senders never take the same one.
    """
    now = now or utcnow()
    claimed = await _claim_invitations(session, limit, now)
    if len(claimed) < limit:
        claimed += await _claim_reminders(session, limit - len(claimed), now)
    return claimed


async def _claim_invitations(session: AsyncSession, limit: int, now: datetime) -> list[Outgoing]:
    candidates = await session.execute(
        select(Delivery.id, TelegramAccount.chat_id, TelegramAccount.locale, Round.closes_at)
        .join(Respondent, Respondent.id == Delivery.respondent_id)
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            (Delivery.status == DeliveryStatus.PENDING)
            | (
                (Delivery.status == DeliveryStatus.SENDING)
                & (Delivery.claimed_at < now - STALE_CLAIM)
            ),
            (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now),
            is_open(now),
            _reachable(),
        )
        .order_by(Delivery.id)
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
    )
    claimed = []
    for delivery_id, chat_id, locale, closes_at in candidates.all():
        result = await session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
            )
            .values(status=DeliveryStatus.SENDING, claimed_at=now, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(Outgoing(Kind.INVITATION, delivery_id, chat_id, locale, closes_at))
    return claimed


async def _claim_reminders(session: AsyncSession, limit: int, now: datetime) -> list[Outgoing]:
    candidates = await session.execute(
        select(
            Delivery.id,
            Delivery.reminders_sent,
            Delivery.sent_at,
            Round.reminder_days,
            TelegramAccount.chat_id,
            TelegramAccount.locale,
            Round.closes_at,
        )
        .join(Respondent, Respondent.id == Delivery.respondent_id)
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.STARTED)),
            Delivery.next_reminder_at <= now,
            is_open(now),
            _reachable(),
        )
        .order_by(Delivery.next_reminder_at, Delivery.id)
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
    )
    claimed = []
    for delivery_id, sent, sent_at, days, chat_id, locale, closes_at in candidates.all():
        result = await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.reminders_sent == sent)
            .values(
                reminders_sent=sent + 1,
                next_reminder_at=next_reminder(sent_at, days, sent + 1) if sent_at else None,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(
                Outgoing(Kind.REMINDER, delivery_id, chat_id, locale, closes_at, sent + 1)
            )
    return claimed


async def mark_sent(session: AsyncSession, message: Outgoing, now: datetime | None = None) -> None:
    """The message reached Telegram; an invitation's reminders are scheduled from now."""
    now = now or utcnow()
    if message.kind == Kind.REMINDER:
        return
    days = await session.scalar(
        select(Round.reminder_days).join(Delivery).where(Delivery.id == message.delivery_id)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.id == message.delivery_id, Delivery.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.SENT,
            sent_at=now,
            updated_at=now,
            last_error=None,
            next_attempt_at=None,
            next_reminder_at=next_reminder(now, list(days or []), 0),
        )
        .execution_options(synchronize_session=False)
    )


async def mark_failed(session: AsyncSession, message: Outgoing, reason: str) -> None:
    """Telegram refused the message for good (a 400): keep the reason, send no more."""
    values: dict[str, object] = {"last_error": reason[:300], "next_reminder_at": None}
    if message.kind == Kind.INVITATION:
        values["status"] = DeliveryStatus.FAILED
    await session.execute(
        update(Delivery)
        .where(Delivery.id == message.delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_gone(session: AsyncSession, message: Outgoing, now: datetime | None = None) -> None:
    """The person blocked the bot (a 403): stop sending to them altogether."""
    now = now or utcnow()
    await mark_failed(session, message, "blocked by the user")
    account_id = (
        select(Respondent.account_id)
        .join(Delivery, Delivery.respondent_id == Respondent.id)
        .where(Delivery.id == message.delivery_id)
        .scalar_subquery()
    )
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.id == account_id)
        .values(stopped_at=now)
        .execution_options(synchronize_session=False)
    )


async def retry_later(
    session: AsyncSession, message: Outgoing, reason: str, now: datetime | None = None
) -> bool:
    """A temporary failure (network, 5xx): try again after a growing pause, a bounded
    number of times. Returns False when the message has now failed for good."""
    now = now or utcnow()
    delivery = await session.get(Delivery, message.delivery_id)
    if delivery is None:
        return False
    if message.kind == Kind.REMINDER:
        delivery.reminders_sent = max(0, delivery.reminders_sent - 1)
        delivery.next_reminder_at = now + timedelta(minutes=5)
        return True
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = f"gave up after {delivery.attempts} attempts: {reason}"[:300]
        return False
    delivery.status = DeliveryStatus.PENDING
    delivery.last_error = reason[:300]
    delivery.next_attempt_at = now + timedelta(seconds=2**delivery.attempts)
    return True


async def send_again(session: AsyncSession, message: Outgoing) -> None:
    """Put a claimed message back untouched (after 429s, or when this sender stops).

    Guarded: if another sender has taken the message over meanwhile, nothing changes.
    """
    if message.kind == Kind.REMINDER:
        await session.execute(
            update(Delivery)
            .where(
                Delivery.id == message.delivery_id,
                Delivery.reminders_sent == message.reminder_number,
            )
            .values(reminders_sent=message.reminder_number - 1, next_reminder_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return
    await session.execute(
        update(Delivery)
        .where(Delivery.id == message.delivery_id, Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, attempts=Delivery.attempts - 1)
        .execution_options(synchronize_session=False)
    )
