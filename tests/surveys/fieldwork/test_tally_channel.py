"""A closed round's tallies keep the channel of its answers and completed deliveries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import RoundAudience, RoundDeliveryTally, RoundTally
from storage.types import utcnow
from surveys import journey
from surveys.fieldwork import rounds
from surveys.letters import invitations as letters
from surveys.questionnaire.loader import load_surveys
from surveys.registry import people

SECRET = b"a-test-link-secret-of-enough-length-0123456789"


async def test_closing_a_round_tallies_answers_and_deliveries_by_channel(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        for name in ("Anna", "Bent", "Carl"):
            (await people.add_citizen(session, unit, name)).relatives_wanted = 1
        round_, _ = await rounds.start_round(
            session,
            load_surveys()["standard"],
            [unit],
            RoundAudience.RELATIVES,
            utcnow() + timedelta(days=14),
        )
        batch = await letters.issue_letters(
            session,
            unit,
            RoundAudience.RELATIVES,
            bot_username="b",
            ttl=timedelta(days=30),
            secret=SECRET,
            public_url="https://p.test",
        )
        await session.commit()
    anna, bent, carl = batch.letters
    async with sessions() as session:
        # Anna's relative finishes on the web; Bent's answers 3 on the web, 4 in Telegram.
        _, web = await journey.open_web_link(session, anna.token)
        assert web is not None
        step = await journey.web_accept_information(session, web.respondent_id)
        assert isinstance(step, journey.Question)
        for index in range(7):
            await journey.web_answer(session, web.respondent_id, step.delivery_id, index, "1")
        await journey.web_comment(session, web.respondent_id, step.delivery_id, None)
        _, both = await journey.open_web_link(session, bent.token)
        assert both is not None
        step = await journey.web_accept_information(session, both.respondent_id)
        assert isinstance(step, journey.Question)
        for index in range(3):
            await journey.web_answer(session, both.respondent_id, step.delivery_id, index, "2")
        opened = await journey.open_invite(session, bent.token, telegram_user_id=7, chat_id=7)
        assert opened.account is not None
        for index in range(3, 7):
            await journey.answer(session, opened.account, step.delivery_id, index, "2")
        await journey.finish(session, opened.account, step.delivery_id, 7)
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
