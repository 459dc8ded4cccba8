"""Every press is answered and the person sees the current screen, whatever Telegram says
to the edit: the message deleted, not modified, no longer editable, or Telegram gone
(a 5xx, the connection lost, no answer at all). Forged button data with odd digits gets
the polite refusal. Over HTTP, on both databases."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from standin import Person
from standin.errors import ERR_QUERY_INVALID
from standin.faults import DISCONNECTED, Outage
from storage.models import Answer, Delivery, InviteRole, RoundAudience
from tests.bot.test_sender_outage import impatient
from tests.harness import BotHarness

GONE = "Denne knap virker ikke længere."
STAFF_ONLY = "Denne kommando er kun for personale. Du skal ikke gøre noget."


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def no_tracebacks(log: pytest.LogCaptureFixture) -> None:
    faults = [r for r in log.records if r.exc_info or "Traceback" in r.getMessage()]
    assert faults == [], faults[0].getMessage() if faults else ""
    assert "Traceback" not in log.text


async def logged(log: pytest.LogCaptureFixture, text: str) -> None:
    """Wait (without asserting timing) until a log record says ``text``."""
    for _ in range(500):
        if any(text in r.getMessage() for r in log.records):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nothing logged {text!r}")


async def at_first_question(harness: BotHarness, user_id: int = 7001) -> Person:
    unit = await harness.unit()
    citizen = await harness.citizen(unit, "Anna")
    await harness.open_round(unit, RoundAudience.RELATIVES)
    daughter = harness.person(user_id)
    await daughter.send("/start " + await harness.invite(InviteRole.RELATIVE, citizen_id=citizen))
    await daughter.press("Ja, jeg vil gerne være med")
    assert daughter.last.text.startswith("Spørgsmål 1 af 7")
    return daughter


async def stored(harness: BotHarness) -> list[tuple[str, int | None]]:
    async with harness.sessions() as session:
        rows = await session.execute(select(Answer.item_id, Answer.value))
        return sorted((item, value) for item, value in rows)


async def test_a_press_on_a_message_the_person_deleted(
    harness: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    daughter = await at_first_question(harness)
    question = daughter.last
    pressed = daughter.press_nowait("Ofte", message_id=question.message_id)
    daughter.delete_message(question.message_id)  # before the bot gets to it

    answer = await daughter.wait_answer(pressed)
    assert (answer.text, answer.show_alert) == (None, False)
    # The press is answered once the screen is shown: here as a new message.
    shown = daughter.last
    assert shown.message_id > question.message_id
    assert shown.text.startswith("Spørgsmål 2 af 7") and "🙂 Tilfreds" in daughter.buttons(shown)
    assert await stored(harness) == [("E5", 2)]
    # The person goes on from the new message as usual.
    await daughter.press("🙂 Tilfreds", message_id=shown.message_id)
    assert daughter.last.text.startswith("Spørgsmål 3 af 7")
    no_tracebacks(log)
    assert any("message to edit not found" in r.getMessage() for r in log.records)


async def test_a_press_on_a_message_telegram_no_longer_edits(
    harness: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    daughter = await at_first_question(harness)
    question = daughter.last
    harness.standin.make_uneditable(daughter.chat_id, question.message_id)

    answer = await daughter.press("Ofte", message_id=question.message_id, expect=1)
    assert answer.show_alert is False
    assert daughter.last.text.startswith("Spørgsmål 2 af 7")
    assert daughter.last.message_id != question.message_id
    assert question.text.startswith("Spørgsmål 1 af 7")  # it stays as Telegram keeps it
    assert await stored(harness) == [("E5", 2)]
    # Its old buttons now get the polite answer, with where the person is.
    stale = await daughter.press("Aldrig", message_id=question.message_id, expect=1)
    assert stale.show_alert and "allerede besvaret" in (stale.text or "")
    assert await stored(harness) == [("E5", 2)]
    no_tracebacks(log)
    assert any("message can't be edited" in r.getMessage() for r in log.records)


async def test_a_language_choice_on_a_deleted_information_text(
    harness: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit, "Anna")
    daughter = harness.person(7002)
    [info] = await daughter.send(
        "/start " + await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    )
    pressed = daughter.press_nowait("🇬🇧 English", message_id=info.message_id)
    daughter.delete_message(info.message_id)
    await daughter.wait_answer(pressed)
    english = daughter.last
    assert english.message_id > info.message_id
    assert "automated survey service" in english.text
    assert daughter.buttons(english)[-1] == "🇩🇰 Dansk"
    no_tracebacks(log)


async def test_a_press_asking_for_what_is_shown_needs_no_new_message(
    harness: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit, "Anna")
    daughter = harness.person(7003)
    [info] = await daughter.send(
        "/start " + await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    )
    await daughter.press("🇬🇧 English", message_id=info.message_id, expect=1)
    before = len(daughter.messages)
    # An old client (or a redelivery) asks for English again: already shown.
    answer = await daughter.press_data("i:en", message_id=info.message_id)
    assert (answer.text, answer.show_alert) == (None, False)
    assert len(daughter.messages) == before
    assert "automated survey service" in daughter.last.text
    no_tracebacks(log)
    assert any("already shows this screen" in r.getMessage() for r in log.records)


@pytest.mark.parametrize(
    "forged",
    [
        "a:{d}:0:³",
        "a:{d}:0:٣",
        "a:{d}:0:１",
        "a:{d}:0:+2",
        "a:{d}:0:02",
        "a:{d}:0:2\n",
        "a:{d}:0:999",
        "a:³:0:2",
        "a:{d}:٠:2",
        "a:-{d}:0:2",
        "a:{d}:0:2:9",
        "a:99999999999999999999:0:2",
        "b:{d}:１",
        "f:{d}:⁷",
        "g:{d}²",
        "exp:³:0",
        "del:yes",
        "r:page:³",
        "zz:{d}:0:2",
    ],
)
async def test_forged_button_data_gets_the_polite_refusal(
    harness: BotHarness, log: pytest.LogCaptureFixture, forged: str
) -> None:
    daughter = await at_first_question(harness)
    async with harness.sessions() as session:
        delivery = (await session.execute(select(Delivery.id))).scalar_one()
    question = daughter.last
    answer = await daughter.press_data(forged.format(d=delivery), message_id=question.message_id)
    # Nothing of it parses, and it gets the answer for buttons that no longer work; the
    # /runde step (which parses) tells a non-staff member it is for staff.
    assert answer.show_alert
    assert answer.text == (STAFF_ONLY if forged.startswith("r:") else GONE)


@pytest.mark.parametrize("value", ["6", "99", "0"])
async def test_an_option_the_question_does_not_have_is_refused(
    harness: BotHarness, log: pytest.LogCaptureFixture, value: str
) -> None:
    daughter = await at_first_question(harness)  # five options, "Altid" to "Aldrig"
    async with harness.sessions() as session:
        delivery = (await session.execute(select(Delivery.id))).scalar_one()
    answer = await daughter.press_data(
        f"a:{delivery}:0:{value}", message_id=daughter.last.message_id
    )
    expected = (
        GONE if value == "0" else "Det svar kender jeg ikke. Brug knapperne under spørgsmålet."
    )
    assert answer.show_alert and answer.text == expected
    assert await stored(harness) == []
    no_tracebacks(log)
    assert await stored(harness) == []
    assert daughter.last.text.startswith("Spørgsmål 1 af 7")
    no_tracebacks(log)


async def test_an_unexpected_refusal_still_answers_the_press(
    harness: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    daughter = await at_first_question(harness)
    harness.standin.fail_next(
        "editMessageText",
        status=400,
        description="Bad Request: can't parse entities: unsupported start tag",
        chat_id=daughter.chat_id,
    )
    answer = await daughter.press("Ofte")
    assert answer.show_alert and answer.text == (
        "Der er lige nu et teknisk problem hos os. Prøv igen om lidt."
    )
    # A fault of the bot: logged with its traceback, as a fault should be.
    [fault] = [r for r in log.records if r.exc_info]
    assert fault.levelno == logging.ERROR and fault.exc_info is not None
    assert "can't parse entities" in str(fault.exc_info[1])


async def test_a_press_telegram_takes_no_answer_for_is_logged_in_one_line(
    harness: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    daughter = await at_first_question(harness)
    harness.standin.fail_next("answerCallbackQuery", status=400, description=ERR_QUERY_INVALID)
    pressed = daughter.press_nowait("Ofte")
    await harness.standin.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == pressed
    )
    assert daughter.last.text.startswith("Spørgsmål 2 af 7")
    await harness.standin.wait_for(
        lambda: any("took no answer" in r.getMessage() for r in log.records)
    )
    no_tracebacks(log)


async def test_telegram_away_while_showing_the_next_screen_is_one_line(
    harness: BotHarness, log: pytest.LogCaptureFixture
) -> None:
    daughter = await at_first_question(harness)
    harness.standin.fail_next("editMessageText", status=502, chat_id=daughter.chat_id)
    answer = await daughter.press("Ofte")
    assert answer.show_alert and answer.text == (
        "Der er lige nu et teknisk problem hos os. Prøv igen om lidt."
    )
    assert await stored(harness) == [("E5", 2)]  # stored before it was shown
    no_tracebacks(log)
    [line] = [r for r in log.records if "could not take the answer" in r.getMessage()]
    assert line.levelno == logging.WARNING and "Bad Gateway" in line.getMessage()
    # Trying again shows where the person is.
    again = await daughter.press("Ofte", expect=1)
    assert again.show_alert and "allerede besvaret" in (again.text or "")
    assert daughter.last.text.startswith("Spørgsmål 2 af 7")


@pytest.mark.parametrize("kind", ["disconnect", "hang"])
async def test_telegram_lost_while_showing_the_next_screen_keeps_the_answer_once(
    harness: BotHarness, log: pytest.LogCaptureFixture, kind: Outage
) -> None:
    if kind == "hang":
        await impatient(harness)  # the edit times out after a second
    standin = harness.standin
    daughter = await at_first_question(harness)
    question = daughter.last
    # The connection goes (or stops answering) at the moment the bot shows question 2,
    # and stays away: the bot's answer to the press meets the same.
    standin.outage(kind, at="editMessageText", chat_id=daughter.chat_id)
    pressed = daughter.press_nowait("Ofte")
    await standin.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == pressed
    )
    [edit] = standin.calls_of("editMessageText")[-1:]
    assert edit.status == DISCONNECTED and edit.params["message_id"] == question.message_id
    assert await stored(harness) == [("E5", 2)]  # stored before it was shown
    standin.end_outage()
    await logged(log, "could not answer the press")
    shown = standin.message(daughter.chat_id, question.message_id)
    assert shown is not None and shown.text.startswith("Spørgsmål 1 af 7")  # never edited

    # Telegram delivers the press once more: handled already, nothing stored twice.
    standin.replay(standin.update_id_of(pressed))
    await logged(log, "already processed")
    assert await stored(harness) == [("E5", 2)]
    # The person presses again and is shown where they are, then goes on as usual.
    again = await daughter.press("Ofte", message_id=question.message_id, expect=1, timeout=10)
    assert again.show_alert and "allerede besvaret" in (again.text or "")
    assert daughter.last.text.startswith("Spørgsmål 2 af 7")
    await daughter.press("🙂 Tilfreds", expect=1)
    assert daughter.last.text.startswith("Spørgsmål 3 af 7")
    assert await stored(harness) == [("E5", 2), ("M1", 2)]

    no_tracebacks(log)
    # The bot's own account of it: one WARNING line, saying what Telegram did.
    [line] = [r for r in log.records if r.name.startswith("bot.") and r.levelno >= logging.WARNING]
    assert line.levelno == logging.WARNING and "could not take the answer" in line.getMessage()
    reason = "Request timeout error" if kind == "hang" else "ServerDisconnectedError"
    assert reason in line.getMessage()
