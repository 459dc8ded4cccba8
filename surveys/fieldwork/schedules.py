"""Recurring rounds: a schedule starts a round by itself every month, quarter or cron time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Round, RoundAudience, Schedule, Unit
from storage.types import utcnow
from surveys.clock import DANISH_TIMEZONE
from surveys.errors import PejlingError, Problem
from surveys.fieldwork.rounds import start_round
from surveys.questionnaire.loader import load_surveys
from surveys.questionnaire.schema import Survey

# Named rhythms, at 10:00 Danish time (inside the contact hours) on the first of the month.
NAMED = {"month": "0 10 1 * *", "quarter": "0 10 1 1,4,7,10 *"}


def trigger(every: str) -> CronTrigger:
    """The cron trigger for 'month', 'quarter' or a five-field cron expression."""
    expression = NAMED.get(every.strip().lower(), every.strip())
    try:
        return CronTrigger.from_crontab(expression, timezone=DANISH_TIMEZONE)
    except ValueError as error:
        raise PejlingError(Problem.BAD_EVERY, every=every, error=error) from None


def next_run(every: str, after: datetime) -> datetime:
    """The first time after ``after`` at which the schedule fires."""
    fire = trigger(every).get_next_fire_time(None, after + timedelta(seconds=1))
    if not isinstance(fire, datetime):
        raise PejlingError(Problem.EVERY_NEVER_FIRES, every=every)
    return fire


async def add_schedule(
    session: AsyncSession,
    survey: Survey,
    units: Sequence[Unit],
    audience: RoundAudience,
    every: str,
    *,
    open_days: int = 14,
    now: datetime | None = None,
) -> Schedule:
    """Register a recurring round; it first runs at the next time ``every`` names."""
    now = now or utcnow()
    if not units:
        raise PejlingError(Problem.SCHEDULE_NO_UNITS)
    if not 1 <= open_days <= 90:
        raise PejlingError(Problem.OPEN_DAYS)
    schedule = Schedule(
        survey_id=survey.id,
        audience=audience,
        every=every,
        open_days=open_days,
        next_run_at=next_run(every, now),
        units=list(units),
    )
    session.add(schedule)
    await session.flush()
    return schedule


async def list_schedules(session: AsyncSession) -> list[Schedule]:
    """Every schedule with its units."""
    result = await session.execute(
        select(Schedule).options(selectinload(Schedule.units)).order_by(Schedule.id)
    )
    return list(result.scalars())


async def remove_schedule(session: AsyncSession, schedule_id: int) -> None:
    """Stop a recurring round; rounds it already started stay."""
    result = await session.execute(delete(Schedule).where(Schedule.id == schedule_id))
    if getattr(result, "rowcount", 0) != 1:
        raise PejlingError(Problem.NO_SCHEDULE, schedule_id=schedule_id)


async def start_due(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    surveys: Mapping[str, Survey] | None = None,
) -> list[Round]:
    """Start the rounds of every schedule that is due.

    Each schedule is claimed by moving its ``next_run_at`` on with a guarded update, so
    with several processes exactly one starts the round.
    """
    now = now or utcnow()
    due = (
        (
            await session.execute(
                select(Schedule)
                .options(selectinload(Schedule.units))
                .where(Schedule.next_run_at <= now)
            )
        )
        .scalars()
        .all()
    )
    if not due:
        return []
    surveys = surveys if surveys is not None else load_surveys()
    started = []
    for schedule in due:
        claimed = await session.execute(
            update(Schedule)
            .where(Schedule.id == schedule.id, Schedule.next_run_at == schedule.next_run_at)
            .values(next_run_at=next_run(schedule.every, now))
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1 or schedule.survey_id not in surveys:
            continue
        round_, _ = await start_round(
            session,
            surveys[schedule.survey_id],
            schedule.units,
            RoundAudience(schedule.audience),
            now + timedelta(days=schedule.open_days),
            now=now,
            started_by=f"schedule:{schedule.id}",
            schedule_id=schedule.id,
        )
        started.append(round_)
    return started
