"""Retention: identifiable data goes when the reporting period is over; the anonymous
answers that reports are computed from stay, so an old round's report still works."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Citizen,
    CitizenStatus,
    Comment,
    Delivery,
    Invite,
    Respondent,
    Round,
    RoundParticipant,
    Staff,
    TelegramAccount,
)
from storage.types import utcnow


@dataclass(frozen=True)
class PurgeReport:
    """How much identifiable data a purge removed."""

    rounds: int
    links_cut: int
    comments: int
    respondents: int
    accounts: int
    citizens: int
    invites: int


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def purge(
    session: AsyncSession, *, retention_months: int, now: datetime | None = None
) -> PurgeReport:
    """Delete what identifies people past ``retention_months``; idempotent.

    - Rounds that closed before the cut-off: every link between a person and a delivery
      goes (anonymous or not), with the list of who took part and the free-text comments
      (they may name someone). Answers, delivery counts and units stay: the figures.
    - Citizens who left before the cut-off: their respondents go, and their name and
      external reference are blanked.
    - Respondents with no round since the cut-off, and Telegram accounts left with no
      respondent and no staff role, go.
    - Invites used or expired before the cut-off go.
    """
    now = now or utcnow()
    cutoff = now - relativedelta(months=retention_months)
    closed = func.coalesce(Round.closed_at, Round.closes_at)
    old_rounds = select(Round.id).where(closed < cutoff)
    rounds = int(await session.scalar(select(func.count()).select_from(old_rounds.subquery())) or 0)

    links = await session.execute(
        update(Delivery)
        .where(Delivery.round_id.in_(old_rounds), Delivery.respondent_id.is_not(None))
        .values(respondent_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(delete(RoundParticipant).where(RoundParticipant.round_id.in_(old_rounds)))
    comments = await session.execute(
        delete(Comment).where(
            Comment.delivery_id.in_(select(Delivery.id).where(Delivery.round_id.in_(old_rounds)))
        )
    )

    left = select(Citizen.id).where(
        Citizen.status != CitizenStatus.ACTIVE, Citizen.left_at < cutoff
    )
    citizens = await session.execute(
        update(Citizen)
        .where(
            Citizen.id.in_(left),
            or_(Citizen.first_name.is_not(None), Citizen.external_ref.is_not(None)),
        )
        .values(first_name=None, external_ref=None)
        .execution_options(synchronize_session=False)
    )
    recent_rounds = select(Round.id).where(closed >= cutoff)
    # Took part in a round that is still within the period (the participants list
    # survives the anonymous cut, so finished people count as active too).
    active = exists().where(
        RoundParticipant.respondent_id == Respondent.id,
        RoundParticipant.round_id.in_(recent_rounds),
    )
    respondents = await session.execute(
        delete(Respondent).where(
            or_(
                Respondent.citizen_id.in_(left),
                and_(Respondent.created_at < cutoff, ~active),
            )
        )
    )
    accounts = await session.execute(
        delete(TelegramAccount).where(
            TelegramAccount.created_at < cutoff,
            ~exists().where(Respondent.account_id == TelegramAccount.id),
            ~exists().where(Staff.account_id == TelegramAccount.id),
        )
    )
    invites = await session.execute(
        delete(Invite).where(
            or_(Invite.used_at < cutoff, and_(Invite.used_at.is_(None), Invite.expires_at < cutoff))
        )
    )
    return PurgeReport(
        rounds=rounds,
        links_cut=_count(links),
        comments=_count(comments),
        respondents=_count(respondents),
        accounts=_count(accounts),
        citizens=_count(citizens),
        invites=_count(invites),
    )
