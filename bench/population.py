"""People who already joined, and an open round for them, written in bulk.

How people join is the journey tests' business; a benchmark only needs many of them
quickly, so they are inserted straight into the tables, as the test harness's crowd()
does, and the round is opened through the domain (``surveys.fieldwork.rounds.start_round``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import engine_of
from standin import BotAPIStandIn
from storage.db import session_factory
from storage.models import Citizen, Respondent, RoundAudience, TelegramAccount, Unit
from storage.types import utcnow
from surveys.fieldwork import rounds
from surveys.questionnaire.loader import load_surveys
from surveys.registry import people

FIRST_USER_ID = 100_000


async def care_home(session: AsyncSession, count: int) -> tuple[Unit, Sequence[int]]:
    """One care home with ``count`` citizens (written in one statement): it and their ids."""
    unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
    citizen_ids = (
        await session.scalars(
            insert(Citizen).returning(Citizen.id, sort_by_parameter_order=True),
            [{"unit_id": unit.id, "first_name": f"Borger{n}"} for n in range(count)],
        )
    ).all()
    return unit, citizen_ids


async def populate(
    database_url: str,
    standin: BotAPIStandIn | None,
    count: int,
    *,
    first_user_id: int = FIRST_USER_ID,
) -> tuple[int, list[int]]:
    """``count`` relatives of citizens of one care home, onboarded, and a round open for
    them (its invitations waiting in the outbox); their chats are opened in ``standin``
    when given. Returns the round id and the user ids."""
    now = utcnow()
    users = list(range(first_user_id, first_user_id + count))
    async with engine_of(database_url) as engine, session_factory(engine)() as session:
        unit, citizen_ids = await care_home(session, count)
        account_ids = (
            await session.scalars(
                insert(TelegramAccount).returning(TelegramAccount.id, sort_by_parameter_order=True),
                [{"telegram_user_id": u, "chat_id": u, "informed_at": now} for u in users],
            )
        ).all()
        await session.execute(
            insert(Respondent),
            [
                {"kind": "relative", "citizen_id": c, "account_id": a}
                for c, a in zip(citizen_ids, account_ids, strict=True)
            ],
        )
        round_, invited = await rounds.start_round(
            session,
            load_surveys()["standard"],
            [unit],
            RoundAudience.RELATIVES,
            now + timedelta(days=14),
        )
        await session.commit()
    assert invited == count, f"{invited} invited, {count} expected"
    if standin is not None:
        for user_id in users:
            standin.person(user_id, first_name=f"P{user_id}", started=True)
    return round_.id, users
