"""A relative or citizen goes from deep link to thank-you, over HTTP, on both databases."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select

from storage.models import (
    Answer,
    AnswerKind,
    Comment,
    Delivery,
    DeliveryStatus,
    InviteRole,
    Respondent,
    RoundAudience,
    TelegramAccount,
)
from tests.harness import BotHarness

RELATIVE_CARE_HOME = ["E5", "M1", "M4", "K5", "V3", "V4", "A1"]
CITIZEN_HOME_CARE = ["H1", "E1", "E2", "E3", "E4", "M1", "K1", "K2", "V1", "A1"]


async def answers_of(harness: BotHarness) -> dict[str, tuple[str, int | None]]:
    async with harness.sessions() as session:
        rows = await session.execute(select(Answer.item_id, Answer.kind, Answer.value))
        return {item: (kind, value) for item, kind, value in rows}


async def only_delivery(harness: BotHarness) -> Delivery:
    async with harness.sessions() as session:
        return (await session.execute(select(Delivery))).scalar_one()


async def test_relative_answers_in_danish_from_link_to_thanks(harness: BotHarness) -> None:
    unit = await harness.unit("Plejecenter Åbakken", "care_home")
    citizen = await harness.citizen(unit, "Anna")
    await harness.open_round(unit, RoundAudience.RELATIVES)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    daughter = harness.person(1001)

    [info] = await daughter.send(f"/start {token}")
    assert "Testrup Kommunes automatiske spørgeskema-service" in info.text
    assert "frivilligt" in info.text and "ændrer ikke noget" in info.text
    assert "13 måneder" in info.text and "/slet" in info.text and "70 11 22 33" in info.text
    assert daughter.buttons(info) == ["Ja, jeg vil gerne være med", "Nej tak", "🇬🇧 English"]

    await daughter.press("Ja, jeg vil gerne være med")
    first = daughter.last
    assert first.text.startswith("Spørgsmål 1 af 7")
    assert "Har Anna nogen at tale med og være sammen med i hverdagen?" in first.text
    assert daughter.buttons(first) == [
        "Altid",
        "Ofte",
        "Nogle gange",
        "Sjældent",
        "Aldrig",
        "Ved ikke",
        "Spring over",
    ]

    choices = [
        "Ofte",
        "🙂 Tilfreds",
        "Altid",
        "Ved ikke",
        "Altid",
        "Spring over",
        "😊 Meget tilfreds",
    ]
    for number, choice in enumerate(choices, start=1):
        assert daughter.last.text.startswith(f"Spørgsmål {number} af 7")
        await daughter.press(choice)
        # Pressing edits the question in place: one message, not a flood.
        assert daughter.last.message_id == first.message_id

    assert "Ved personalet, hvad der er aftalt om Annas hjælp" not in daughter.last.text
    assert "Er der andet, du vil fortælle os?" in daughter.last.text
    assert "navne" in daughter.last.text
    replies = await daughter.send("Personalet er søde, men maden er ofte kold.", expect=2)
    assert "kommentar er gemt" in replies[0].text
    assert "Tak for dine svar" in daughter.last.text

    answers = await answers_of(harness)
    assert list(answers) == RELATIVE_CARE_HOME or set(answers) == set(RELATIVE_CARE_HOME)
    assert answers["E5"] == (AnswerKind.VALUE, 2)
    assert answers["M1"] == (AnswerKind.VALUE, 2)
    assert answers["K5"] == (AnswerKind.DONT_KNOW, None)
    assert answers["V4"] == (AnswerKind.SKIP, None)
    async with harness.sessions() as session:
        versions = set(
            (await session.execute(select(Answer.survey_id, Answer.survey_version))).all()
        )
        comment = (await session.execute(select(Comment.text))).scalar_one()
    assert versions == {("standard", 1)}
    assert comment == "Personalet er søde, men maden er ofte kold."
    delivery = await only_delivery(harness)
    assert delivery.status == DeliveryStatus.COMPLETED and delivery.completed_at is not None


async def test_citizen_answers_in_english_with_help_flagged_as_proxy(harness: BotHarness) -> None:
    unit = await harness.unit("Hjemmeplejen Nord", "home_care")
    citizen = await harness.citizen(unit, "Karl")
    token = await harness.invite(InviteRole.CITIZEN, citizen_id=citizen)
    karl = harness.person(2002, language_code="en")

    await karl.send(f"/start {token}")
    await karl.press("🇬🇧 English")
    assert "automated survey service" in karl.last.text
    await karl.press("Yes, I would like to take part")
    assert "There is no survey for you right now" in karl.last.text

    await harness.open_round(unit, RoundAudience.CITIZENS)
    assert await harness.send_invitations() == 1
    assert "new questionnaire" in karl.last.text
    await karl.press("Start the questionnaire")
    assert karl.last.text.startswith("Question 1 of 10")
    assert "Who is answering the questions?" in karl.last.text

    await karl.press("Myself, with help from a relative")
    for _ in range(len(CITIZEN_HOME_CARE) - 1):
        await karl.press(karl.buttons()[0])
    assert "Is there anything else you would like to tell us?" in karl.last.text
    await karl.press("No thanks, finish")
    assert "Thank you for your answers" in karl.last.text

    answers = await answers_of(harness)
    assert set(answers) == set(CITIZEN_HOME_CARE)
    assert answers["H1"] == (AnswerKind.VALUE, 2)
    delivery = await only_delivery(harness)
    assert delivery.proxy is True
    assert delivery.status == DeliveryStatus.COMPLETED


async def test_restart_half_way_resumes_where_the_person_stopped(harness: BotHarness) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit, "Anna")
    await harness.open_round(unit)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    son = harness.person(3003)
    await son.send(f"/start {token}")
    await son.press("Ja, jeg vil gerne være med")
    for choice in ["Altid", "😐 Hverken eller", "Sjældent"]:
        await son.press(choice)
    old_question = son.last
    assert old_question.text.startswith("Spørgsmål 4 af 7")

    await harness.restart()

    # The old message still works after the restart: nothing lived in process memory.
    await son.press("Ofte", message_id=old_question.message_id)
    assert son.last.text.startswith("Spørgsmål 5 af 7")
    await harness.restart()
    [resumed] = await son.send("/start")
    assert resumed.text.startswith("Spørgsmål 5 af 7")
    assert len(await answers_of(harness)) == 4


async def test_the_same_update_twice_changes_nothing(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit, "Anna")
    await harness.open_round(unit)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    person = harness.person(4004)
    start_update = person.send_nowait(f"/start {token}")
    await harness.standin.wait_for(lambda: len(person.messages) == 1)
    await person.press("Ja, jeg vil gerne være med")
    await person.press("Altid")
    press_update = harness.standin.update_id_of(person.press_nowait("🙂 Tilfreds"))
    await harness.standin.wait_for(lambda: person.last.text.startswith("Spørgsmål 3 af 7"))
    shown = [(m.message_id, m.text) for m in person.messages]

    caplog.set_level(logging.INFO, logger="bot.middlewares")
    harness.standin.replay(start_update)
    harness.standin.replay(press_update)
    for _ in range(500):  # wait (without asserting timing) until the bot has seen both
        if caplog.text.count("already processed") == 2:
            break
        await asyncio.sleep(0.01)
    assert caplog.text.count("already processed") == 2

    assert [(m.message_id, m.text) for m in person.messages] == shown
    await person.press("Altid")
    answers = await answers_of(harness)
    assert answers == {
        "E5": (AnswerKind.VALUE, 1),
        "M1": (AnswerKind.VALUE, 2),
        "M4": (AnswerKind.VALUE, 1),
    }
    assert person.last.text.startswith("Spørgsmål 4 af 7")
    async with harness.sessions() as session:
        accounts = await session.scalar(select(func.count()).select_from(TelegramAccount))
        respondents = await session.scalar(select(func.count()).select_from(Respondent))
    assert (accounts, respondents) == (1, 1)


async def test_back_shows_the_answer_given_and_a_new_answer_replaces_it(
    harness: BotHarness,
) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit, "Anna")
    await harness.open_round(unit)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    person = harness.person(5005)
    await person.send(f"/start {token}")
    await person.press("Ja, jeg vil gerne være med")
    assert "⬅️ Tilbage" not in person.buttons()
    await person.press("Sjældent")
    await person.press("⬅️ Tilbage")
    assert person.last.text.startswith("Spørgsmål 1 af 7")
    assert "✓ Sjældent" in person.buttons()
    await person.press("Altid")
    assert person.last.text.startswith("Spørgsmål 2 af 7")
    assert (await answers_of(harness))["E5"] == (AnswerKind.VALUE, 1)
