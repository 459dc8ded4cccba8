"""Every bad input a person can give gets a clear message, and nothing is half-written."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from standin import Person
from storage.models import (
    Answer,
    Citizen,
    CitizenStatus,
    Comment,
    Delivery,
    DeliveryStatus,
    InviteRole,
    Respondent,
    RoundAudience,
    TelegramAccount,
)
from surveys.fieldwork import rounds
from tests.harness import BotHarness


async def count(harness: BotHarness, model: type) -> int:
    async with harness.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def joined(
    harness: BotHarness, user_id: int, name: str = "Anna", unit_name: str | None = None
) -> Person:
    """A relative who has accepted the information, with a round open."""
    unit = await harness.unit(unit_name or f"Plejecenter {user_id}")
    citizen = await harness.citizen(unit, name)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    person = harness.person(user_id)
    await person.send(f"/start {token}")
    await person.press("Ja, jeg vil gerne være med")
    return person


async def test_unknown_expired_and_used_links_are_refused_and_change_nothing(
    harness: BotHarness,
) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit)
    expired = await harness.invite(
        InviteRole.RELATIVE, citizen_id=citizen, ttl=timedelta(seconds=-1)
    )
    used = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    first = harness.person(7001)
    await first.send(f"/start {used}")
    stranger = harness.person(7002)

    [reply] = await stranger.send("/start NotARealTokenAtAll_1234567890abcdef")
    assert "Det link kender jeg ikke" in reply.text and "70 11 22 33" in reply.text
    [reply] = await stranger.send("/start ../../etc/passwd")
    assert "Det link kender jeg ikke" in reply.text
    [reply] = await stranger.send(f"/start {expired}")
    assert "ikke længere gyldigt" in reply.text
    [reply] = await stranger.send(f"/start {used}")
    assert "allerede brugt" in reply.text

    assert await count(harness, TelegramAccount) == 1
    assert await count(harness, Respondent) == 1


async def test_a_link_for_a_citizen_who_has_left_is_refused(harness: BotHarness) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    async with harness.sessions() as session:
        row = await session.get(Citizen, citizen)
        assert row is not None
        row.status = CitizenStatus.DIED
        await session.commit()
    [reply] = await harness.person(7101).send(f"/start {token}")
    assert "er gået bort" in reply.text  # tests/bot/test_relatives_left.py says more
    assert await count(harness, Respondent) == 0


async def test_text_sticker_and_unknown_command_get_hints(harness: BotHarness) -> None:
    person = await joined(harness, 7201)
    question = person.last
    hint, again = await person.send("Hvad skal jeg svare?", expect=2)
    assert "Tryk på en af knapperne" in hint.text
    assert again.text == question.text and again.message_id != question.message_id
    [hint, again] = await person.send_sticker(expect=2)
    assert "Tryk på en af knapperne" in hint.text
    [reply] = await person.send("/hvaderdet")
    assert "Den kommando kender jeg ikke" in reply.text
    assert await count(harness, Answer) == 0
    assert await count(harness, Comment) == 0


async def test_a_stranger_gets_a_hint_for_text_stickers_and_commands(harness: BotHarness) -> None:
    stranger = harness.person(7301)
    [reply] = await stranger.send("Hej")
    assert "linket eller QR-koden fra dit brev" in reply.text
    [reply] = await stranger.send_sticker()
    assert "kun læse tekst" in reply.text
    [reply] = await stranger.send("/start")
    assert "linket eller QR-koden" in reply.text
    for command, expected in [
        ("/stop", "ikke tilmeldt"),
        ("/mine_data", "ingen oplysninger"),
        ("/slet", "intet at slette"),
    ]:
        [reply] = await stranger.send(command)
        assert expected in reply.text
    assert await count(harness, TelegramAccount) == 0


async def test_a_comment_over_1000_characters_is_refused_and_nothing_is_stored(
    harness: BotHarness,
) -> None:
    person = await joined(harness, 7401)
    for _ in range(7):
        await person.press("Spring over")
    assert "Er der andet" in person.last.text
    [reply] = await person.send("x" * 1001)
    assert "for lang: 1001 tegn" in reply.text and "1000 tegn" in reply.text
    assert await count(harness, Comment) == 0
    async with harness.sessions() as session:
        status = await session.scalar(select(Delivery.status))
    assert status == DeliveryStatus.STARTED
    await person.send("y" * 1000, expect=2)
    assert await count(harness, Comment) == 1
    assert "Tak for dine svar" in person.last.text


async def test_a_forged_press_on_someone_elses_survey_is_refused(harness: BotHarness) -> None:
    victim = await joined(harness, 7501)
    await victim.press("Altid")
    attacker = await joined(harness, 7502, name="Bent")
    async with harness.sessions() as session:
        victims_delivery = await session.scalar(
            select(Delivery.id)
            .join(Respondent)
            .join(TelegramAccount)
            .where(TelegramAccount.telegram_user_id == 7501)
        )
    target = attacker.last.message_id
    for data in (
        f"a:{victims_delivery}:1:5",
        f"a:{victims_delivery}:0:5",
        f"b:{victims_delivery}:1",
    ):
        answer = await attacker.press_data(data, message_id=target)
        assert answer.show_alert and "hører ikke til dit spørgeskema" in (answer.text or "")
    garbage = await attacker.press_data("a:xyz:?:!", message_id=target)
    assert "virker ikke længere" in (garbage.text or "")
    async with harness.sessions() as session:
        rows = (await session.execute(select(Answer.delivery_id, Answer.value))).all()
    assert rows == [(victims_delivery, 1)]


async def test_buttons_of_a_finished_or_closed_survey_answer_politely(harness: BotHarness) -> None:
    person = await joined(harness, 7601)
    first_question = person.last
    for _ in range(7):
        await person.press("Altid" if "Altid" in person.buttons() else "Spring over")
    await person.press("Nej tak, afslut")
    answer = await person.press_data(
        f"a:{await _delivery_id(harness)}:0:1", message_id=first_question.message_id
    )
    assert "allerede svaret" in (answer.text or "")

    other = await joined(harness, 7602)
    async with harness.sessions() as session:
        round_id = await session.scalar(
            select(Delivery.round_id)
            .join(Respondent)
            .join(TelegramAccount)
            .where(TelegramAccount.telegram_user_id == 7602)
        )
        assert round_id is not None
        await rounds.close_round(session, round_id)
        await session.commit()
    answer = await other.press("Altid")
    assert "lukket" in (answer.text or "")
    assert other.buttons(other.last) == []
    assert await count(harness, Answer) == 7


async def _delivery_id(harness: BotHarness) -> int:
    async with harness.sessions() as session:
        value = await session.scalar(select(Delivery.id).order_by(Delivery.id))
        assert value is not None
        return value


async def test_guessing_tokens_is_throttled_per_person(harness: BotHarness) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit)
    valid = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    guesser = harness.person(7701)
    for number in range(5):
        [reply] = await guesser.send(f"/start guess{number:02d}AAAAAAAAAAAAAAAAAAAAAAA")
        assert "Det link kender jeg ikke" in reply.text
    # Even a right token is not looked at while the guesser waits.
    [reply] = await guesser.send(f"/start {valid}")
    assert "for mange forkerte links" in reply.text
    assert await count(harness, Respondent) == 0
    # Someone else is not held up by the guesser.
    [info] = await harness.person(7702).send(f"/start {valid}")
    assert "Vil du være med?" in info.text
