"""The bot's largest outputs stay inside Telegram's published limits (issue 10).

The stand-in refuses what Telegram refuses (callback_data over 64 bytes, texts over 4096
characters, more than 100 buttons, invalid HTML, alerts over 200 characters; see
tests/standin/test_telegram_limits.py), so every test that drives the bot checks the
contract for what it triggers. The tests here drive the bot, through the real
dispatcher, to the outputs most likely to break it: the largest ids, the longest names,
names full of HTML's special characters, and a municipality of 100 units.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import insert, select, text

import bot.callbacks as callbacks
from bot.paging import PAGE_SIZE, split_text
from standin import ApiCall
from storage.models import InviteRole, RoundAudience, Staff, staff_units
from surveys.questionnaire.loader import load_surveys
from surveys.questionnaire.translation import LOCALES
from tests.harness import BotHarness

LARGEST_ID = 2**31 - 1  # PostgreSQL's integer, the type of every key (see RowId)
# Names as a municipality's CSV file may hold them, at the longest the columns allow.
UNIT_NAME = ('Plejecenter "Åbakken" <Nord> & Syd ' * 6)[:200].strip()
FIRST_NAME = ('Anna <Bo> & "Ærø" ' * 8)[:100].strip()


def _sent(harness: BotHarness) -> Iterator[ApiCall]:
    return (c for c in harness.standin.calls if c.method != "getUpdates")


def _callback_data(call: ApiCall) -> list[str]:
    markup = call.params.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [str(b["callback_data"]) for row in rows for b in row if "callback_data" in b]


def _all_refusals(harness: BotHarness) -> list[str]:
    return [f"{c.method}: {c.description}" for c in _sent(harness) if not c.ok]


def _largest_payloads() -> dict[type[CallbackData], list[CallbackData]]:
    """Every kind of button payload, with every field at the largest it can be."""
    surveys = load_surveys()
    survey_ids = [*surveys, "x" * 32]  # 32: the longest id a survey file may have
    longest_scale = max(
        len(s.options) for survey in surveys.values() for s in survey.scales.values()
    )
    big = LARGEST_ID
    return {
        callbacks.AnswerCb: [
            callbacks.AnswerCb(d=big, i=big, v=v) for v in ("x", "s", str(longest_scale))
        ],
        callbacks.BackCb: [callbacks.BackCb(d=big, i=big)],
        callbacks.BeginCb: [callbacks.BeginCb(d=big)],
        callbacks.FinishCb: [callbacks.FinishCb(d=big, i=big)],
        callbacks.InfoCb: [callbacks.InfoCb(choice=c) for c in ("yes", "no", *LOCALES)],
        callbacks.LangCb: [callbacks.LangCb(code=c) for c in LOCALES],
        callbacks.DeleteCb: [callbacks.DeleteCb(confirm=c) for c in (True, False)],
        callbacks.RoundCb: [
            callbacks.RoundCb(step="unit", value=str(big)),
            callbacks.RoundCb(step="page", value=str(big // PAGE_SIZE)),
            callbacks.RoundCb(step="next"),
            *(callbacks.RoundCb(step="survey", value=s) for s in survey_ids),
            *(callbacks.RoundCb(step="audience", value=a.value) for a in RoundAudience),
            callbacks.RoundCb(step="closes", value=str(4 * 7)),
            callbacks.RoundCb(step="start"),
            callbacks.RoundCb(step="cancel"),
        ],
        callbacks.ExportCb: [callbacks.ExportCb(r=big, m=0), callbacks.ExportCb(r=0, m=12)],
    }


def test_every_button_payload_fits_in_64_bytes_at_the_largest_ids() -> None:
    payloads = _largest_payloads()
    kinds = {
        value
        for value in vars(callbacks).values()
        if isinstance(value, type) and issubclass(value, CallbackData) and value is not CallbackData
    }
    assert set(payloads) == kinds, "a new kind of button needs its largest payload here"
    for kind, examples in payloads.items():
        for example in examples:
            packed = example.pack()
            assert 1 <= len(packed.encode("utf-8")) <= 64, (kind.__name__, packed)
            assert kind.unpack(packed) == example


async def _start_ids_near_the_largest(harness: BotHarness) -> None:
    """Make every new row of PostgreSQL get an id close to 2**31 - 1."""
    async with harness.sessions() as session:
        tables = await session.execute(
            text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE column_name = 'id' AND table_schema = 'public' "
                "AND column_default LIKE 'nextval%'"
            )
        )
        for (table,) in tables:
            await session.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"),
                {"t": table, "v": LARGEST_ID - 100},
            )
        await session.commit()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_whole_surveys_at_the_largest_postgresql_ids_stay_within_telegrams_limits(
    harness: BotHarness,
) -> None:
    await _start_ids_near_the_largest(harness)
    people = []
    for kind, audience, role, user_id, language in (
        ("home_care", RoundAudience.CITIZENS, InviteRole.CITIZEN, 7001, "da"),
        ("care_home", RoundAudience.RELATIVES, InviteRole.RELATIVE, 7002, "en"),
    ):
        unit = await harness.unit(f"{UNIT_NAME[:190]} {user_id}", kind)
        citizen = await harness.citizen(unit, FIRST_NAME)
        assert unit > LARGEST_ID - 200 and citizen > LARGEST_ID - 200
        token = await harness.invite(role, citizen_id=citizen)
        person = harness.person(user_id, language_code=language)
        await person.send(f"/start {token}")
        if language == "en":
            await person.press("🇬🇧 English")
        await person.press(person.buttons()[0])  # yes, take part
        await harness.open_round(unit, audience)
        people.append(person)
    # One sender for both: a second one would wait for the first one's lease.
    assert await harness.send_invitations() == 2
    for person in people:
        await person.press(person.buttons()[0])  # start the survey
        questions = 0
        while len(person.buttons()) > 2:  # a question; the comment has two buttons
            await person.press(person.buttons()[0])
            questions += 1
        assert questions >= 6
        await person.press(person.buttons()[0])  # no comment, finish
        await person.send("/mine_data")
        await person.send("/slet")
        await person.press(person.buttons()[0])
    assert _all_refusals(harness) == []
    payloads = [data for call in _sent(harness) for data in _callback_data(call)]
    # The buttons of the journey did carry ids of ten digits.
    assert any(str(LARGEST_ID)[:7] in data for data in payloads)
    assert max(len(data.encode()) for data in payloads) <= 64


async def test_names_with_html_characters_are_shown_as_written(harness: BotHarness) -> None:
    harness.settings.municipality = "Testrup & Omegn <Kommune>"
    harness.settings.contact = 'Ældre & Sundhed, "tlf. <70 11 22 33>"'
    unit = await harness.unit(UNIT_NAME, "care_home")
    citizen = await harness.citizen(unit, FIRST_NAME)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    relative = harness.person(8001)
    [info] = await relative.send(
        f"/start {await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)}"
    )
    assert "Testrup & Omegn <Kommune>s automatiske" in info.text
    assert 'Ældre & Sundhed, "tlf. <70 11 22 33>"' in info.text
    await relative.press("Ja, jeg vil gerne være med")
    assert f"Har {FIRST_NAME} nogen at tale med" in relative.last.text
    [mine] = await relative.send("/mine_data")
    assert f"pårørende til {FIRST_NAME} ved {UNIT_NAME}" in mine.text
    [helped] = await relative.send("/hjaelp")
    assert 'Kontakt Ældre & Sundhed, "tlf. <70 11 22 33>".' in helped.text
    [unknown] = await harness.person(8002).send("/start not-a-token")
    assert 'kontakt Ældre & Sundhed, "tlf. <70 11 22 33>".' in unknown.text
    [hello] = await harness.person(8003).send("/start")
    assert "Dette er Testrup & Omegn <Kommune>s spørgeskema-service" in hello.text

    nurse = harness.person(8004)
    [welcome] = await nurse.send(f"/start {await harness.invite(InviteRole.STAFF, unit_id=unit)}")
    assert f"medarbejder ved {UNIT_NAME}." in welcome.text
    [status] = await nurse.send("/status")
    assert f"pårørende i {UNIT_NAME}, lukker" in status.text
    await nurse.send("/runde")
    await nurse.press(f"☐ {UNIT_NAME}")
    await nurse.press("Videre ➡️")
    await nurse.press(nurse.buttons()[0])
    await nurse.press("pårørende")
    await nurse.press(nurse.buttons()[0])
    assert f"pårørende i {UNIT_NAME}, lukker" in nurse.last.text
    assert _all_refusals(harness) == []


async def _municipality_of_100_units(harness: BotHarness, user_id: int) -> list[str]:
    """100 units with the longest names, each with an open round, and one member of
    staff for all of them. Returns the names in the order the bot lists them."""
    names = [f"{n:03d} {UNIT_NAME}"[:200].strip() for n in range(100)]
    unit_ids = [await harness.unit(name, "care_home") for name in names]
    for unit_id in unit_ids:
        await harness.open_round(unit_id, RoundAudience.RELATIVES)
    nurse = harness.person(user_id)
    await nurse.send(f"/start {await harness.invite(InviteRole.STAFF, unit_id=unit_ids[0])}")
    async with harness.sessions() as session:
        staff_id = (await session.execute(select(Staff.id))).scalar_one()
        await session.execute(
            insert(staff_units), [{"staff_id": staff_id, "unit_id": u} for u in unit_ids[1:]]
        )
        await session.commit()
    return names


async def test_100_units_fit_in_pages_of_buttons_and_parts_of_messages(
    harness: BotHarness,
) -> None:
    names = await _municipality_of_100_units(harness, 9001)
    nurse = harness.person(9001)

    statuses = await _all_replies(nurse, await nurse.send("/status"))
    shown = "\n".join(m.text for m in statuses)
    assert len(statuses) > 1
    assert all(f"pårørende i {name}, lukker" in shown for name in names)

    [menu] = await nurse.send("/runde")
    pages: list[list[str]] = []
    while True:
        buttons = nurse.buttons(menu)
        assert len(buttons) <= PAGE_SIZE + 4
        pages.append([b.removeprefix("☐ ") for b in buttons if b.startswith("☐ ")])
        forward = [b for b in buttons if b.endswith("▶")]
        if not forward:
            break
        await nurse.press(forward[0], message_id=menu.message_id)
    assert [name for page in pages for name in page] == names
    assert len(pages) == 100 // PAGE_SIZE
    # A unit on the last page is chosen, and the page stays where it was.
    await nurse.press(f"☐ {names[-1]}", message_id=menu.message_id)
    assert f"☑ {names[-1]}" in nurse.buttons(menu)
    back = next(b for b in nurse.buttons(menu) if b.startswith("◀"))
    await nurse.press(back, message_id=menu.message_id)
    assert f"☐ {names[60]}" in nurse.buttons(menu)
    await nurse.press("Videre ➡️", message_id=menu.message_id)
    await nurse.press(nurse.buttons(menu)[0], message_id=menu.message_id)
    await nurse.press("pårørende", message_id=menu.message_id)
    await nurse.press(nurse.buttons(menu)[0], message_id=menu.message_id)
    assert nurse.last.text.startswith(f"Sendes til 0 pårørende i {names[-1]}, lukker")

    mine = await _all_replies(nurse, await nurse.send("/mine_data"))
    listed = "\n".join(m.text for m in mine)
    assert len(mine) > 1 and all(name in listed for name in names)
    assert _all_refusals(harness) == []


async def _all_replies(person: Any, first: list[Any]) -> list[Any]:
    """The messages a command was answered with: those given, and any still arriving."""
    replies = list(first)
    while True:
        try:
            replies += await person.receive(timeout=1.0)
        except AssertionError:
            return replies


def test_a_long_text_is_cut_between_units_and_never_inside_an_entity() -> None:
    names = ", ".join(f"Enhed &amp; &lt;{n}&gt;" for n in range(1000))
    parts = split_text(f"Du er medarbejder ved {names}")
    assert len(parts) > 1 and all(len(part) <= 4096 for part in parts)
    assert all(part.endswith("&gt;") for part in parts[:-1])
    assert ", ".join(parts) == f"Du er medarbejder ved {names}"
    assert split_text("kort") == ["kort"] and split_text("") == []
