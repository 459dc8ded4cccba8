"""A relative opens the letter's link after the citizen died or moved out: a respectful
message for a death (nothing to do, no "ask for a new link"), a plain one for a move, in
the person's language; nothing is stored for them. Over HTTP, on both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Invite, InviteFailure, InviteRole, Respondent, RoundAudience
from surveys.fieldwork import care_events
from tests.harness import BotHarness

CONTACT = "Ældreservice, tlf. 70 11 22 33"


async def citizen_who_left(harness: BotHarness, name: str | None, reason: str) -> str:
    unit = await harness.unit()
    citizen = await harness.citizen(unit, name)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    async with harness.sessions() as session:
        await care_events.citizen_left(session, citizen, reason)
        await session.commit()
    return token


async def nothing_stored(harness: BotHarness) -> None:
    async with harness.sessions() as session:
        for model in (Respondent, InviteFailure):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
        assert await session.scalar(select(func.count()).where(Invite.used_at.is_not(None))) == 0


async def test_the_relative_of_a_citizen_who_died(harness: BotHarness) -> None:
    token = await citizen_who_left(harness, "Anna", "died")
    daughter = harness.person(7301)
    [reply] = await daughter.send(f"/start {token}")
    assert reply.text == (
        "Vi har fået besked om, at Anna er gået bort. Vi sender derfor ingen spørgeskemaer "
        "om hjælpen til Anna. Vi beklager, hvis denne besked kommer på et svært tidspunkt. "
        f"Har du spørgsmål, er du velkommen til at kontakte {CONTACT}."
    )
    assert "nyt" not in reply.text and "gyldigt" not in reply.text
    assert daughter.buttons(reply) == []
    # Opening it again says the same: no "too many wrong links".
    [again] = await daughter.send(f"/start {token}")
    assert again.text == reply.text
    await nothing_stored(harness)


async def test_the_relative_of_a_citizen_without_a_name_who_died(harness: BotHarness) -> None:
    token = await citizen_who_left(harness, None, "died")
    [reply] = await harness.person(7302).send(f"/start {token}")
    assert reply.text.startswith(
        "Vi har fået besked om, at den borger, som linket gælder, er gået bort."
    )
    assert "nyt" not in reply.text and CONTACT in reply.text


async def test_the_relative_of_a_citizen_who_moved(harness: BotHarness) -> None:
    token = await citizen_who_left(harness, "Karl", "moved")
    [reply] = await harness.person(7303).send(f"/start {token}")
    assert reply.text == (
        "Linket gælder ikke længere, fordi Karl er flyttet. Der kommer derfor ingen "
        f"spørgeskemaer med dette link. Har du spørgsmål, så kontakt {CONTACT}."
    )
    await nothing_stored(harness)


async def test_in_english_for_a_person_who_chose_english(harness: BotHarness) -> None:
    """A relative of two citizens, who chose English while answering about the first."""
    unit = await harness.unit()
    first = await harness.citizen(unit, "Bodil")
    son = harness.person(7304)
    await son.send("/start " + await harness.invite(InviteRole.RELATIVE, citizen_id=first))
    await son.send("/sprog")
    await son.press("🇬🇧 English", expect=1)
    died = await harness.citizen(unit, "Anna")
    moved = await harness.citizen(unit, "Karl")
    tokens = [await harness.invite(InviteRole.RELATIVE, citizen_id=c) for c in (died, moved)]
    async with harness.sessions() as session:
        await care_events.citizen_left(session, died, "died")
        await care_events.citizen_left(session, moved, "moved")
        await session.commit()
    [reply] = await son.send(f"/start {tokens[0]}")
    assert reply.text == (
        "We have been told that Anna has passed away. We will therefore not send any surveys "
        "about the help Anna receives. We are sorry if this message comes at a difficult "
        f"time. If you have any questions, you are welcome to contact {CONTACT}."
    )
    [reply] = await son.send(f"/start {tokens[1]}")
    assert reply.text == (
        "This link no longer applies, because Karl has moved. So there will be no surveys "
        f"with this link. If you have any questions, contact {CONTACT}."
    )
