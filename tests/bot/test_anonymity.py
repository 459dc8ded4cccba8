"""Anonymous rounds: once a person finishes, or the round closes, nothing links them to
their answers; while the round is open, reminders and resuming still work."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Answer, Delivery, DeliveryStatus, Round, RoundAudience, RoundParticipant
from surveys.fieldwork import rounds
from surveys.registry.people import find_unit
from tests.bot.test_bad_input import joined
from tests.harness import BotHarness, standard_round


async def links(harness: BotHarness) -> list[tuple[str, int | None]]:
    async with harness.sessions() as session:
        rows = await session.execute(
            select(Delivery.status, Delivery.respondent_id).order_by(Delivery.id)
        )
        return [(status, respondent) for status, respondent in rows]


async def test_finishing_cuts_the_link_and_nobody_is_invited_twice(harness: BotHarness) -> None:
    person = await joined(harness, 9101)
    while person.last.text.startswith("Spørgsmål"):
        await person.press("Spring over")
    await person.press("Nej tak, afslut")
    assert await links(harness) == [(DeliveryStatus.COMPLETED, None)]
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 7  # kept
        assert await session.scalar(select(func.count()).select_from(RoundParticipant)) == 1
        round_ = (await session.execute(select(Round))).scalar_one()
        # Starting the invitations of the round again finds the person already counted.
        assert await rounds.invite_eligible(session, round_) == 0
        await session.commit()
    [reply] = await person.send("/mine_data")
    assert "Spørgeskemaer: 0, svar: 0" in reply.text
    assert "anonyme" in reply.text


async def test_closing_cuts_the_link_of_the_unfinished(harness: BotHarness) -> None:
    person = await joined(harness, 9201)
    await person.press("Altid")
    assert (await links(harness))[0][1] is not None  # open: resuming still works
    async with harness.sessions() as session:
        round_id = await session.scalar(select(Round.id))
        assert round_id is not None
        await rounds.close_round(session, round_id)
        await session.commit()
    assert await links(harness) == [(DeliveryStatus.STARTED, None)]


async def test_an_identified_round_keeps_the_link(harness: BotHarness) -> None:
    unit = await harness.unit()
    [user] = await harness.crowd(unit, 1, first_user_id=9301)
    async with harness.sessions() as session:
        await standard_round(
            session,
            [await find_unit(session, str(unit))],
            RoundAudience.RELATIVES,
            days=7,
            anonymous=False,
        )
        await session.commit()
    await harness.send_invitations()
    person = harness.standin.person(user)
    await person.press("Start spørgeskemaet")
    while person.last.text.startswith("Spørgsmål"):
        await person.press("Spring over")
    await person.press("Nej tak, afslut")
    [(status, respondent)] = await links(harness)
    assert status == DeliveryStatus.COMPLETED and respondent is not None
