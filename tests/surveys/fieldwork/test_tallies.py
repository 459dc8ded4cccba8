"""A closed round's answers counted once into round_tallies, on SQLite and PostgreSQL.

A report over tallied rounds must give exactly the figures their answers give; a round
whose answers change (someone deletes their data) loses its tally until the
housekeeping job counts it again.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import UnitKind
from storage.models import (
    Answer,
    Audience,
    Citizen,
    Delivery,
    Respondent,
    Round,
    RoundTally,
    TelegramAccount,
    Unit,
)
from surveys.fieldwork import rounds
from surveys.fieldwork.care_events import citizen_left
from surveys.indicators import (
    FigureKey,
    FigureKind,
    Report,
    compute_report,
    period_selection,
    round_selection,
)
from surveys.privacy.rights import delete_my_data
from tests.surveys import indicator_data as data


async def _varied_round(
    session: AsyncSession, units: list[Unit], rng: random.Random, *, weeks: int = 0
) -> Round:
    """A round where every item gets values, "Ved ikke", skips, proxies and people who
    broke off, in both audiences."""
    survey = data.standard()
    round_ = await data.round_(session, units, opens=data.T0 + timedelta(weeks=weeks))
    for unit in units:
        kind = UnitKind(unit.kind)
        for audience in (Audience.CITIZEN, Audience.RELATIVE):
            for _ in range(rng.randint(6, 14)):
                items = survey.items_for(audience, kind)
                answers, done = data.varied_answers(survey, items, rng)
                await data.person(
                    session,
                    round_,
                    unit,
                    answers,
                    audience=audience.value,
                    proxy=rng.random() < 0.15,
                    status="completed" if done else "started",
                )
    return round_


async def _report(session: AsyncSession, round_id: int) -> Report:
    return await compute_report(session, await round_selection(session, round_id))


async def _year(session: AsyncSession) -> Report:
    first = data.T0.date()
    return await compute_report(
        session, await period_selection(session, first, first + timedelta(days=364))
    )


async def _two_rounds(session: AsyncSession) -> tuple[int, int]:
    rng = random.Random(9)
    units = [
        await data.unit(session, "Plejecenter Åbakken", citizens=30),
        await data.unit(session, "Hjemmeplejen Nord", kind="home_care", citizens=40),
    ]
    first = await _varied_round(session, units, rng)
    second = await _varied_round(session, units, rng, weeks=8)
    await session.commit()
    return first.id, second.id


async def test_tallied_rounds_give_the_figures_their_answers_give(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        first, second = await _two_rounds(session)
        live_round, live_year = await _report(session, second), await _year(session)
        assert await session.scalar(select(func.count()).select_from(RoundTally)) == 0

        for round_id in (first, second):
            closed = await rounds.close_round(session, round_id)
            assert closed.tallied_at is not None
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(RoundTally)) > 100

        # The answers and deliveries are gone from the database, so what follows can only
        # come from the tallies.
        await session.execute(delete(Answer))
        await session.execute(delete(Delivery))
        await session.commit()
        tallied_round, tallied_year = await _report(session, second), await _year(session)
    assert tallied_round.figures == live_round.figures  # with the trend from the first round
    assert tallied_year.figures == live_year.figures
    assert any(f.change is not None for f in tallied_round.figures.values())


async def test_a_tally_is_counted_only_once_the_round_is_closed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        first, _ = await _two_rounds(session)
        assert await rounds.tally_closed_rounds(session) == 0  # both still open
        # Rounds closed before tallies existed (or the job's own closing) have none yet.
        await session.execute(
            update(Round).where(Round.id == first).values(closed_at=data.T0 + timedelta(days=14))
        )
        await session.commit()
        live = await _year(session)
        assert await rounds.tally_closed_rounds(session) == 1
        assert await rounds.tally_closed_rounds(session) == 0
        await session.commit()
        tallied = set(await session.scalars(select(Round.id).where(Round.tallied_at.is_not(None))))
        assert tallied == {first}
        assert (await _year(session)).figures == live.figures  # one tallied, one live


async def test_expired_rounds_are_tallied_as_the_job_closes_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        first, _ = await _two_rounds(session)
        live = await _year(session)
        closed = await rounds.close_expired_rounds(
            session, now=data.T0 + timedelta(days=15)
        )  # the first round's fortnight is over, the second's has not begun
        await session.commit()
        assert closed == 1
        counted = await session.scalars(select(RoundTally.round_id).distinct())
        assert set(counted) == {first}
        assert (await _year(session)).figures == live.figures


async def test_deleting_someones_answers_drops_the_tally_until_it_is_counted_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await data.unit(session, "Plejecenter Bakkely", citizens=20)
        round_ = await data.round_(session, [unit])
        round_.anonymous = False  # a named round keeps the link, so /slet finds the answers
        for number in range(15):
            value = 1 + number % 4
            await data.person(session, round_, unit, {"M1": value, "E1": value})
        account = TelegramAccount(telegram_user_id=555, chat_id=555)
        citizen = Citizen(unit_id=unit.id, first_name="Ib")
        session.add_all([account, citizen])
        await session.flush()
        respondent = Respondent(kind=Audience.CITIZEN, citizen_id=citizen.id, account_id=account.id)
        session.add(respondent)
        await session.flush()
        mine = await data.person(session, round_, unit, {"M1": 5, "E1": 1})
        mine.respondent_id = respondent.id
        await rounds.close_round(session, round_.id)
        await session.commit()
        with_mine = await _report(session, round_.id)

        await delete_my_data(session, account)
        await session.commit()
        assert await session.scalar(select(Round.tallied_at).where(Round.id == round_.id)) is None
        assert await session.scalar(select(func.count()).select_from(RoundTally)) == 0
        without_mine = await _report(session, round_.id)  # from the answers meanwhile
        assert _m1_answers(with_mine, unit.id) == 16
        assert _m1_answers(without_mine, unit.id) == 15

        assert await rounds.tally_closed_rounds(session) == 1
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(RoundTally)) > 0
        assert (await _report(session, round_.id)).figures == without_mine.figures
        # The deleted person's answers are in no count: only the other seven are.
        m1 = select(func.sum(RoundTally.count)).where(
            RoundTally.item_id == "M1", RoundTally.kind == "value"
        )
        assert await session.scalar(m1) == 15
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 16


async def test_a_citizen_leaving_drops_the_tally_of_a_closed_round_they_were_invited_to(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await data.unit(session, "Hjemmeplejen Syd", kind="home_care", citizens=20)
        round_ = await data.round_(session, [unit])
        round_.anonymous = False  # closing an anonymous round cuts the link citizen_left follows
        for number in range(12):
            await data.person(session, round_, unit, {"M1": 1 + number % 5})
        citizen = Citizen(unit_id=unit.id, first_name="Ole")
        session.add(citizen)
        await session.flush()
        respondent = Respondent(kind=Audience.CITIZEN, citizen_id=citizen.id)
        session.add(respondent)
        await session.flush()
        unanswered = await data.person(session, round_, unit, status="sent")
        unanswered.respondent_id = respondent.id
        await rounds.close_round(session, round_.id)
        await session.commit()
        assert _invited(await _report(session, round_.id), unit.id) == 13

        assert await citizen_left(session, citizen.id, "moved") == 1
        await session.commit()
        assert await session.scalar(select(Round.tallied_at).where(Round.id == round_.id)) is None
        assert _invited(await _report(session, round_.id), unit.id) == 12
        assert await rounds.tally_closed_rounds(session) == 1
        await session.commit()
        assert _invited(await _report(session, round_.id), unit.id) == 12


def _invited(report: Report, unit_id: int) -> int:
    figure = report.figure(FigureKey(Audience.CITIZEN, FigureKind.RESPONSE), unit_id)
    assert figure is not None and figure.values is not None
    return figure.values.n


def _m1_answers(report: Report, unit_id: int) -> int:
    figure = report.figure(FigureKey(Audience.CITIZEN, FigureKind.ITEM, "M1"), unit_id)
    assert figure is not None and figure.values is not None
    return figure.values.n
