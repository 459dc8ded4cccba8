"""The person's rights in the chat: stop, see my data, delete my data, language."""

from __future__ import annotations

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

from storage.models import Answer, Delivery, DeliveryStatus, InviteRole, RoundAudience
from tests.bot.test_bad_input import joined
from tests.harness import BotHarness


async def test_stop_keeps_a_person_out_of_new_rounds_and_start_undoes_it(
    harness: BotHarness,
) -> None:
    person = await joined(harness, 8001)
    unit_id = await _unit_of_only_round(harness)
    [reply] = await person.send("/stop")
    assert "ikke flere spørgeskemaer" in reply.text and "/start" in reply.text
    await harness.open_round(unit_id, RoundAudience.RELATIVES)
    assert await harness.send_invitations() == 0

    await person.send("/start", expect=2)
    assert "Velkommen tilbage" in person.messages[-2].text
    assert person.last.text.startswith("Spørgsmål 1 af 7")


async def test_declining_the_information_sends_nothing_and_start_offers_it_again(
    harness: BotHarness,
) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit)
    await harness.open_round(unit)
    token = await harness.invite(InviteRole.CITIZEN, citizen_id=citizen)
    person = harness.person(8101)
    await person.send(f"/start {token}")
    await person.press("Nej tak")
    assert "helt i orden" in person.last.text and "din hjælp er den samme" in person.last.text
    async with harness.sessions() as session:
        assert await session.scalar(select(Delivery.id)) is None
    [info] = await person.send("/start")
    assert "Vil du være med?" in info.text


async def test_my_data_lists_what_is_stored(harness: BotHarness) -> None:
    person = await joined(harness, 8201, name="Anna")
    await person.press("Altid")
    [reply] = await person.send("/mine_data")
    assert "pårørende til Anna ved Plejecenter 8201" in reply.text
    assert "Spørgeskemaer: 1, svar: 1, kommentarer: 0" in reply.text
    assert "slettes senest" in reply.text and "/slet" in reply.text


async def test_delete_leaves_no_row_that_names_the_person(harness: BotHarness) -> None:
    person = await joined(harness, 8301777, name="Gudrun", unit_name="Plejecenter Syd")
    for choice in ("Ofte", "😞 Meget utilfreds", "Sjældent"):
        await person.press(choice)
    neighbour = await joined(harness, 8302888, name="Holger", unit_name="Plejecenter Nord")
    await neighbour.press("Altid")

    [question] = await person.send("/slet")
    assert "Det kan ikke fortrydes" in question.text
    await person.press("Nej, behold dem")
    assert "sletter ingenting" in person.last.text
    await person.send("/slet")
    await person.press("Ja, slet mine data")
    assert "Dine data er slettet" in person.last.text

    dump = await _dump_all_tables(harness)
    assert "8301777" not in dump, "the Telegram id is still stored"
    assert "8302888" in dump and "Holger" in dump  # the neighbour is untouched
    async with harness.sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.status, Delivery.respondent_id, func.count(Answer.id))
                .outerjoin(Answer, Answer.delivery_id == Delivery.id)
                .group_by(Delivery.id)
                .order_by(Delivery.id)
            )
        ).all()
    # The withdrawn delivery stays only as an anonymous count for the response rate.
    assert [(status, respondent, answers) for status, respondent, answers in rows] == [
        (DeliveryStatus.WITHDRAWN, None, 0),
        (DeliveryStatus.STARTED, rows[1][1], 1),
    ]
    assert rows[1][1] is not None
    [reply] = await person.send("/mine_data")
    assert "ingen oplysninger" in reply.text


async def test_language_can_be_switched_and_the_menu_exists_in_both(harness: BotHarness) -> None:
    person = await joined(harness, 8401)
    await person.send("/sprog")
    await person.press("🇬🇧 English")
    assert person.last.text == "Now I will write in English."
    [reply] = await person.send("/hjaelp")
    assert "/stop" in reply.text and "How it works" in reply.text
    await person.send("/sprog")
    await person.press("🇩🇰 Dansk")
    assert person.last.text == "Nu skriver jeg på dansk."

    danish = {c["command"]: c["description"] for c in harness.standin.commands()}
    english = {c["command"]: c["description"] for c in harness.standin.commands("en")}
    assert set(danish) == set(english) == {"start", "hjaelp", "sprog", "stop", "mine_data", "slet"}
    assert danish["slet"] == "Slet dine data" and english["slet"] != danish["slet"]


async def _unit_of_only_round(harness: BotHarness) -> int:
    async with harness.sessions() as session:
        unit_id = await session.scalar(select(Delivery.unit_id))
        assert unit_id is not None
        return int(unit_id)


async def _dump_all_tables(harness: BotHarness) -> str:
    """Every value in every table, as one string to search."""

    def names(connection: Connection) -> list[str]:
        return inspect(connection).get_table_names()

    async with harness.sessions() as session:
        connection = await session.connection()
        tables = await connection.run_sync(names)
        parts: list[str] = []
        for table in tables:
            rows = await session.execute(text(f'SELECT * FROM "{table}"'))
            parts.extend(repr(tuple(row)) for row in rows)
    return "\n".join(parts)
