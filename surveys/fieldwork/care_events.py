"""Care events: a citizen moves or dies, and every survey about them stops at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Citizen,
    CitizenStatus,
    Delivery,
    DeliveryStatus,
    Respondent,
)
from storage.types import utcnow
from surveys.errors import PejlingError, Problem
from surveys.fieldwork.tallies import forget_tallies

UNFINISHED = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.STARTED,
)


async def citizen_left(
    session: AsyncSession, citizen_id: int, reason: str, *, now: datetime | None = None
) -> int:
    """Record that a citizen moved or died and cancel every unfinished survey for them and
    their relatives (no invitation, no reminder). Returns how many were cancelled.

    Completed answers stay and follow the retention rule like any other.
    """
    now = now or utcnow()
    if reason not in (CitizenStatus.MOVED, CitizenStatus.DIED):
        raise PejlingError(Problem.BAD_REASON, reason=reason)
    citizen = await session.get(Citizen, citizen_id)
    if citizen is None:
        raise PejlingError(Problem.NO_CITIZEN, citizen_id=citizen_id)
    citizen.status = CitizenStatus(reason)
    citizen.left_at = citizen.left_at or now
    people = select(Respondent.id).where(Respondent.citizen_id == citizen_id)
    unfinished = (Delivery.respondent_id.in_(people), Delivery.status.in_(UNFINISHED))
    rounds = list(await session.scalars(select(Delivery.round_id).where(*unfinished).distinct()))
    result = await session.execute(
        update(Delivery)
        .where(*unfinished)
        .values(status=DeliveryStatus.CANCELLED, next_reminder_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    # A closed round's response rate counted these deliveries as invited: its tally goes,
    # to be counted again (after the update, which waits for a tally being counted).
    await forget_tallies(session, rounds)
    return int(getattr(result, "rowcount", 0) or 0)
