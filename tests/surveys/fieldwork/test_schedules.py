"""Recurring rounds start by themselves, once, whichever process looks first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Round, RoundAudience
from surveys.errors import PejlingError
from surveys.fieldwork import schedules
from surveys.questionnaire.loader import load_surveys
from surveys.registry import people


async def test_a_monthly_schedule_starts_one_round_per_month(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        schedule = await schedules.add_schedule(
            session,
            load_surveys()["standard"],
            [unit],
            RoundAudience.BOTH,
            "month",
            open_days=10,
            now=created,
        )
        await session.commit()
        # The first of next month, 10:00 in Copenhagen (09:00 UTC in winter).
        assert schedule.next_run_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    async with sessions() as session:
        assert await schedules.start_due(session, now=datetime(2026, 11, 30, tzinfo=UTC)) == []
        due = datetime(2026, 12, 1, 9, 0, 30, tzinfo=UTC)
        [round_] = await schedules.start_due(session, now=due)
        assert round_.started_by == f"schedule:{schedule.id}"
        assert round_.closes_at == datetime(2026, 12, 11, 9, 0, 30, tzinfo=UTC)
        # A second process looking at the same moment finds nothing left to start.
        assert await schedules.start_due(session, now=due) == []
        await session.commit()
        [listed] = await schedules.list_schedules(session)
        assert listed.next_run_at == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
        assert await session.scalar(select(func.count()).select_from(Round)) == 1


def test_quarter_and_cron_rhythms_and_a_bad_one() -> None:
    after = datetime(2026, 11, 23, tzinfo=UTC)
    assert schedules.next_run("quarter", after) == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    assert schedules.next_run("0 10 15 * *", after) == datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    with pytest.raises(PejlingError, match="--every 'fortnightly': use month, quarter or a cron"):
        schedules.next_run("fortnightly", after)
