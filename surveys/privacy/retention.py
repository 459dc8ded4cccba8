"""Retention: past the reporting period a round's answers, comments and deliveries go,
and only its unit-level counts (``round_tallies``, ``round_delivery_tallies``) stay, so
an old round's report, trend and export still work, from those counts alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Answer,
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
from surveys.fieldwork.definitions import load_version
from surveys.fieldwork.tallies import tally_round

PURGE_SLACK = timedelta(days=1)
"""The nightly purge runs once a day: data past its period may wait that long for it."""


@dataclass(frozen=True)
class PurgeReport:
    """How much identifiable data a purge removed."""

    rounds: int
    tallied: int
    deliveries: int
    answers: int
    comments: int
    respondents: int
    accounts: int
    citizens: int
    invites: int


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def deleted_by(closed: datetime, retention_months: int) -> datetime:
    """When the nightly purge has deleted a round's answers at the latest, for a round
    that closed (or closes) at ``closed``."""
    return closed + relativedelta(months=retention_months) + PURGE_SLACK


async def purge(
    session: AsyncSession, *, retention_months: int, now: datetime | None = None
) -> PurgeReport:
    """Delete what identifies people past ``retention_months``; idempotent.

    - Rounds that closed before the cut-off: their answers, comments, deliveries and
      the list of who took part go, so only unit-level counts remain. A round without a
      tally is counted into one first, in the same transaction (a round past its closing
      time that was never marked closed is closed at its closing time).
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

    # Tally first: the counts are all that will be left of these rounds.
    untallied = (
        await session.execute(
            select(Round.id, Round.survey_version_id)
            .where(Round.id.in_(old_rounds), Round.tallied_at.is_(None))
            .order_by(Round.id)
        )
    ).all()
    for round_id, version_id in untallied:
        await session.execute(
            update(Round)
            .where(Round.id == round_id, Round.closed_at.is_(None))
            .values(closed_at=Round.closes_at)
            .execution_options(synchronize_session=False)
        )
        await tally_round(session, await load_version(session, version_id), round_id, now)

    old_deliveries = select(Delivery.id).where(Delivery.round_id.in_(old_rounds))
    await session.execute(delete(RoundParticipant).where(RoundParticipant.round_id.in_(old_rounds)))
    comments = await session.execute(delete(Comment).where(Comment.delivery_id.in_(old_deliveries)))
    answers = await session.execute(delete(Answer).where(Answer.delivery_id.in_(old_deliveries)))
    deliveries = await session.execute(delete(Delivery).where(Delivery.round_id.in_(old_rounds)))

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
        tallied=len(untallied),
        deliveries=_count(deliveries),
        answers=_count(answers),
        comments=_count(comments),
        respondents=_count(respondents),
        accounts=_count(accounts),
        citizens=_count(citizens),
        invites=_count(invites),
    )
