"""Survey rounds: opening one and deciding who is invited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Citizen,
    CitizenStatus,
    Delivery,
    DeliveryStatus,
    Respondent,
    RespondentKind,
    Round,
    RoundAudience,
    TelegramAccount,
    Unit,
    round_units,
)
from storage.types import utcnow
from storage.upsert import insert_select_ignoring_conflicts
from surveys.definitions import store_version
from surveys.errors import PejlingError
from surveys.schema import Audience, Survey

AUDIENCE_KINDS: dict[str, tuple[str, ...]] = {
    RoundAudience.CITIZENS: (RespondentKind.CITIZEN,),
    RoundAudience.RELATIVES: (RespondentKind.RELATIVE,),
    RoundAudience.BOTH: (RespondentKind.CITIZEN, RespondentKind.RELATIVE),
}


def is_open(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the round takes answers at ``now``."""
    return and_(Round.closed_at.is_(None), Round.opens_at <= now, Round.closes_at > now)


async def start_round(
    session: AsyncSession,
    survey: Survey,
    units: Sequence[Unit],
    audience: RoundAudience,
    closes_at: datetime,
    *,
    now: datetime | None = None,
) -> tuple[Round, int]:
    """Open a round and write a pending delivery for everyone in it (the outbox).

    Returns the round and the number of people invited; a person is invited at most
    once per round however often this runs.
    """
    now = now or utcnow()
    if not units:
        raise PejlingError("a round needs at least one unit")
    if closes_at <= now:
        raise PejlingError("the closing time must be in the future")
    wanted = {Audience(kind) for kind in AUDIENCE_KINDS[audience]}
    if not wanted & set(survey.audiences):
        raise PejlingError(f"survey {survey.id!r} has no items for {audience}")
    version = await store_version(session, survey)
    round_ = Round(
        survey_version_id=version.id,
        audience=audience,
        opens_at=now,
        closes_at=closes_at,
        units=list(units),
    )
    session.add(round_)
    await session.flush()
    invited = await invite_eligible(session, round_)
    return round_, invited


async def invite_eligible(session: AsyncSession, round_: Round) -> int:
    """Write a pending delivery for every onboarded, reachable person in the round."""
    kinds = AUDIENCE_KINDS[round_.audience]
    eligible = (
        select(
            literal(round_.id),
            Respondent.id,
            Citizen.unit_id,
            Respondent.kind,
            Unit.kind,
            literal(DeliveryStatus.PENDING.value),
            literal(0),
            literal(False),
            literal(0),
            literal(utcnow()),
            literal(utcnow()),
        )
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(Unit, Unit.id == Citizen.unit_id)
        .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
        .join(round_units, round_units.c.unit_id == Citizen.unit_id)
        .where(
            round_units.c.round_id == round_.id,
            Respondent.kind.in_(kinds),
            Citizen.status == CitizenStatus.ACTIVE,
            TelegramAccount.informed_at.is_not(None),
            TelegramAccount.stopped_at.is_(None),
        )
    )
    columns = (
        "round_id",
        "respondent_id",
        "unit_id",
        "audience",
        "unit_kind",
        "status",
        "position",
        "proxy",
        "attempts",
        "invited_at",
        "updated_at",
    )
    return await insert_select_ignoring_conflicts(
        session, Delivery, columns, eligible, conflict=("round_id", "respondent_id")
    )


async def enrol_respondent(
    session: AsyncSession, respondent: Respondent, *, now: datetime | None = None
) -> int:
    """Put a person who just joined into every round already open for them.

    They are in the chat right now, so the deliveries start as sent: the first
    question follows at once instead of a separate invitation.
    """
    now = now or utcnow()
    citizen = await session.get(Citizen, respondent.citizen_id)
    if citizen is None or citizen.status != CitizenStatus.ACTIVE:
        return 0
    unit = await session.get(Unit, citizen.unit_id)
    assert unit is not None
    audiences = [a for a, kinds in AUDIENCE_KINDS.items() if respondent.kind in kinds]
    rounds = await session.execute(
        select(Round.id)
        .join(round_units, round_units.c.round_id == Round.id)
        .where(
            round_units.c.unit_id == unit.id,
            Round.audience.in_(audiences),
            is_open(now),
        )
    )
    created = 0
    for (round_id,) in rounds:
        exists = await session.execute(
            select(Delivery.id).where(
                Delivery.round_id == round_id, Delivery.respondent_id == respondent.id
            )
        )
        if exists.scalar_one_or_none() is not None:
            continue
        session.add(
            Delivery(
                round_id=round_id,
                respondent_id=respondent.id,
                unit_id=unit.id,
                audience=respondent.kind,
                unit_kind=unit.kind,
                status=DeliveryStatus.SENT,
                sent_at=now,
            )
        )
        created += 1
    await session.flush()
    return created


async def close_round(
    session: AsyncSession, round_id: int, *, now: datetime | None = None
) -> Round:
    """Close a round now; later presses get a polite 'closed'."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise PejlingError(f"there is no round {round_id}")
    if round_.closed_at is None:
        round_.closed_at = now or utcnow()
    return round_
