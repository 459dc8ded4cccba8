"""The outbox of invitations: deliveries are written first, a sender works through them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryStatus, Respondent, Round, TelegramAccount
from storage.types import utcnow
from surveys.rounds import is_open

# A claim older than this is taken to be from a process that died mid-send.
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class Invitation:
    """An invitation to send: where to, in which language, until when."""

    delivery_id: int
    chat_id: int
    locale: str | None
    closes_at: datetime


async def claim_due_invitations(
    session: AsyncSession, limit: int, *, now: datetime | None = None
) -> list[Invitation]:
    """Claim up to ``limit`` pending invitations for this process to send.

    Claiming is a guarded update (pending -> sending), so two processes never take
    the same delivery; PostgreSQL additionally skips rows another sender has locked.
    """
    now = now or utcnow()
    candidates = await session.execute(
        select(Delivery.id, TelegramAccount.chat_id, TelegramAccount.locale, Round.closes_at)
        .join(Respondent, Respondent.id == Delivery.respondent_id)
        .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            (Delivery.status == DeliveryStatus.PENDING)
            | (
                (Delivery.status == DeliveryStatus.SENDING)
                & (Delivery.claimed_at < now - STALE_CLAIM)
            ),
            TelegramAccount.informed_at.is_not(None),
            TelegramAccount.stopped_at.is_(None),
            is_open(now),
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
            claimed.append(Invitation(delivery_id, chat_id, locale, closes_at))
    return claimed


async def mark_sent(session: AsyncSession, delivery_id: int, now: datetime | None = None) -> None:
    """The invitation reached Telegram."""
    now = now or utcnow()
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.SENT, sent_at=now, updated_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )


async def mark_failed(session: AsyncSession, delivery_id: int, reason: str) -> None:
    """Telegram refused the invitation for good (a 400): keep the reason."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status=DeliveryStatus.FAILED, last_error=reason[:300])
        .execution_options(synchronize_session=False)
    )


async def mark_gone(session: AsyncSession, delivery_id: int, now: datetime | None = None) -> None:
    """The person blocked the bot (a 403): fail this delivery and stop inviting them."""
    now = now or utcnow()
    await mark_failed(session, delivery_id, "blocked by the user")
    account_id = (
        select(Respondent.account_id)
        .join(Delivery, Delivery.respondent_id == Respondent.id)
        .where(Delivery.id == delivery_id)
        .scalar_subquery()
    )
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.id == account_id)
        .values(stopped_at=now)
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, delivery_id: int, reason: str) -> None:
    """A temporary failure: put the invitation back in the outbox to try again."""
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, last_error=reason[:300])
        .execution_options(synchronize_session=False)
    )
