"""Which rounds a report covers, and which rounds it is compared with."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_date
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Round, round_units
from surveys.clock import DANISH_TIME
from surveys.errors import PejlingError, Problem
from surveys.indicators.model import Selection


def danish_date(value: datetime | date) -> str:
    """A date as Danes write it ("3. marts 2026"), in Danish time."""
    if isinstance(value, datetime):
        value = value.astimezone(DANISH_TIME).date()
    return format_date(value, format="long", locale="da")


async def round_selection(session: AsyncSession, round_id: int) -> Selection:
    """A selection of one round; PejlingError if there is no such round."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise PejlingError(Problem.NO_ROUND, round_id=round_id)
    end = round_.closed_at or round_.closes_at
    return Selection(
        survey_version_id=round_.survey_version_id,
        round_ids=(round_.id,),
        start=round_.opens_at,
        end=end,
        label=f"Runde {round_.id}, {danish_date(round_.opens_at)}",
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=DANISH_TIME).astimezone(UTC)


async def period_selection(
    session: AsyncSession, first: date, last: date, survey_version_id: int | None = None
) -> Selection:
    """The rounds opened from ``first`` to ``last`` (both whole days, Danish time).

    Answers to different survey versions are never pooled: the report covers the rounds
    of ``survey_version_id``, by default the version of the newest round in the period;
    rounds of other versions are named in ``left_out``. PejlingError if there are none.
    """
    if last < first:
        raise PejlingError(Problem.PERIOD_BACKWARDS, first=first, last=last)
    start, end = _day_start(first), _day_start(last + timedelta(days=1))
    rows = (
        await session.execute(
            select(Round.id, Round.survey_version_id)
            .where(Round.opens_at >= start, Round.opens_at < end)
            .order_by(Round.opens_at, Round.id)
        )
    ).all()
    if not rows:
        raise PejlingError(Problem.NO_ROUND_IN_PERIOD, first=first, last=last)
    version = survey_version_id if survey_version_id is not None else rows[-1][1]
    chosen = tuple(r for r, v in rows if v == version)
    if not chosen:
        raise PejlingError(Problem.NO_ROUND_OF_VERSION, version=version)
    return Selection(
        survey_version_id=version,
        round_ids=chosen,
        start=start,
        end=end,
        label=f"{danish_date(first)} - {danish_date(last)}",
        is_period=True,
        left_out=tuple(r for r, v in rows if v != version),
    )


async def baseline_selection(session: AsyncSession, selection: Selection) -> Selection | None:
    """What a report is compared with, or None.

    For a round: the newest earlier round of the same survey version that covered at
    least one of the same units. For a period: the same survey version's rounds opened
    in the period of equal length just before it.
    """
    if selection.is_period:
        length = selection.end - selection.start
        start, end = selection.start - length, selection.start
        ids = tuple(
            (
                await session.execute(
                    select(Round.id)
                    .where(
                        Round.survey_version_id == selection.survey_version_id,
                        Round.opens_at >= start,
                        Round.opens_at < end,
                    )
                    .order_by(Round.id)
                )
            ).scalars()
        )
        if not ids:
            return None
        first = start.astimezone(DANISH_TIME).date()
        last = (end.astimezone(DANISH_TIME) - timedelta(days=1)).date()
        return Selection(
            survey_version_id=selection.survey_version_id,
            round_ids=ids,
            start=start,
            end=end,
            label=f"{danish_date(first)} - {danish_date(last)}",
            is_period=True,
        )
    [round_id] = selection.round_ids
    current = await session.get(Round, round_id)
    assert current is not None
    own_units = select(round_units.c.unit_id).where(round_units.c.round_id == round_id)
    previous = await session.execute(
        select(Round.id)
        .join(round_units, round_units.c.round_id == Round.id)
        .where(
            Round.survey_version_id == current.survey_version_id,
            round_units.c.unit_id.in_(own_units),
            or_(
                Round.opens_at < current.opens_at,
                and_(Round.opens_at == current.opens_at, Round.id < current.id),
            ),
        )
        .order_by(Round.opens_at.desc(), Round.id.desc())
        .limit(1)
    )
    previous_id = previous.scalar_one_or_none()
    if previous_id is None:
        return None
    return await round_selection(session, previous_id)
