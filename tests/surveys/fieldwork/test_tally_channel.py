"""A closed round's tallies keep the channel of its answers and completed deliveries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import RoundAudience, RoundDeliveryTally, RoundTally
from surveys import journey
from surveys.fieldwork import rounds
from surveys.registry import people
from tests.harness import answer_on_the_web, print_letters, standard_round


async def test_closing_a_round_tallies_answers_and_deliveries_by_channel(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        for name in ("Anna", "Bent", "Carl"):
            (await people.add_citizen(session, unit, name)).relatives_wanted = 1
        round_, _ = await standard_round(session, [unit], RoundAudience.RELATIVES)
        batch = await print_letters(session, unit)
        await session.commit()
    anna, bent, carl = batch.letters
    async with sessions() as session:
        # Anna's relative finishes on the web; Bent's answers 3 on the web, 4 in Telegram.
        await answer_on_the_web(session, anna.token, 7, finish=True)
        both = await answer_on_the_web(session, bent.token, 3, choice="2")
        opened = await journey.open_invite(session, bent.token, telegram_user_id=7, chat_id=7)
        assert opened.account is not None
        for index in range(3, 7):
            await journey.answer(session, opened.account, both.delivery_id, index, "2")
        await journey.finish(session, opened.account, both.delivery_id, 7)
        # Carl's relative begins in Telegram and stops after one answer.
        started = await journey.open_invite(session, carl.token, telegram_user_id=8, chat_id=8)
        assert started.account is not None
        first = await journey.accept_information(session, started.account)
        assert isinstance(first, journey.Question)
        await journey.answer(session, started.account, first.delivery_id, 0, "3")
        await session.commit()
    async with sessions() as session:
        await rounds.close_round(session, round_.id)
        await session.commit()
        answers = dict(
            (
                await session.execute(
                    select(RoundTally.channel, func.sum(RoundTally.count)).group_by(
                        RoundTally.channel
                    )
                )
            ).all()
        )
        deliveries = sorted(
            (status, channel or "", int(count))
            for status, channel, count in (
                await session.execute(
                    select(
                        RoundDeliveryTally.status,
                        RoundDeliveryTally.channel,
                        func.sum(RoundDeliveryTally.count),
                    ).group_by(RoundDeliveryTally.status, RoundDeliveryTally.channel)
                )
            ).all()
        )
    assert {channel: int(count) for channel, count in answers.items()} == {
        "web": 7 + 3,
        "telegram": 4 + 1,
    }
    assert deliveries == [("completed", "telegram", 1), ("completed", "web", 1), ("started", "", 1)]
