"""Thousands of real, forged and odd presses (and texts, commands and strangers' updates)
through the real dispatcher, with messages deleted under the presses and messages
Telegram no longer edits: no Traceback in the log, every press answered exactly once,
nothing written for anyone but the presser, Telegram's limits kept.

The heavy run is on SQLite; PostgreSQL gets a shorter one of the same mix.
"""

from __future__ import annotations

import logging
import random
import string
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Table, func, select

from standin import BotAPIStandIn, Person
from standin.errors import ERR_CANT_EDIT, ERR_EDIT_NOT_FOUND, ERR_NO_TEXT, ERR_NOT_MODIFIED
from storage.models import (
    Answer,
    Base,
    Delivery,
    InviteRole,
    Respondent,
    RoundAudience,
    TelegramAccount,
)
from tests.harness import BotHarness

UPDATES = {"sqlite": 3000, "postgres": 3000}
ODD_DIGITS = ["³", "²", "٣", "۳", "१", "１", "𝟑", "⁷", "٠", "0003", "+3", " 3", "3 ", "3_0", "3.0"]
HUGE = ["2147483648", "99999999999999999999", str(2**64), "-1", "-2147483649", "1e9"]
COMMANDS = ["/start", "/start x", "/hjaelp", "/sprog", "/stop", "/mine_data", "/slet", "/foo"]
TEXT_ALPHABET = string.printable + "æøåÆØÅ😀³٣１<>&\u200b\u202e"
# What Telegram may refuse while people delete messages under the bot's hands, and when a
# press comes on a message that has no text to edit (a file the staff member was sent: a
# forged press can ask for an export); the bot then sends the screen as a new message.
EXPECTED_REFUSALS = {ERR_EDIT_NOT_FOUND, ERR_CANT_EDIT, ERR_NO_TEXT, ERR_NOT_MODIFIED}
# Rows the people in the fuzz may add for themselves (answers, comments, a /runde draft, a
# language chosen with /sprog before joining, which /slet removes), and the bot's
# bookkeeping (update ids, wrong-link attempts).
MAY_GROW = {
    "answers",
    "comments",
    "round_drafts",
    "language_choices",
    "processed_updates",
    "invite_failures",
}


def odd_number(rng: random.Random, real: list[int]) -> str:
    roll = rng.random()
    if roll < 0.35:
        return str(rng.choice(real))
    if roll < 0.7:
        return rng.choice(ODD_DIGITS)
    return rng.choice(HUGE)


def forged_data(rng: random.Random, deliveries: list[int]) -> str:
    d = odd_number(rng, deliveries)
    i = odd_number(rng, [0, 1, 2, 7, 10])
    v = rng.choice([*ODD_DIGITS, "1", "5", "6", "99", "x", "s", "", "xs", "0"])
    data = rng.choice(
        [
            f"a:{d}:{i}:{v}",
            f"b:{d}:{i}",
            f"g:{d}",
            f"f:{d}:{i}",
            f"exp:{d}:{i}",
            f"del:{rng.choice(['1', '0', 'yes', '³', ''])}",
            f"i:{rng.choice(['yes', 'no', 'en', 'da', 'de', '³'])}",
            f"l:{rng.choice(['da', 'en', 'xx', ''])}",
            f"r:{rng.choice(['unit', 'page', 'next', 'survey', 'audience', 'closes'])}:{i}",
            f"{rng.choice(['A', 'a ', 'q', 'aa', ''])}:{d}:{i}:{v}",
            f"a:{d}:{i}:{v}:{v}",
            "a:" + "9" * rng.randint(60, 200),  # over-long: more than Telegram carries
            "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.randint(1, 64))),
        ]
    )
    return data


def random_text(rng: random.Random) -> str:
    length = rng.choice([1, 5, 40, 300, 1001, 5000])
    return "".join(rng.choice(TEXT_ALPHABET) for _ in range(length)).strip() or "?"


def text_update(person: Person, text: str) -> dict[str, Any]:
    entities = []
    if text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {
        "message": {
            "message_id": 10**6 + random.randrange(10**6),
            "date": int(time.time()),
            "chat": {"id": person.chat_id, "type": "private", "first_name": person.first_name},
            "from": person.user,
            "text": text,
            "entities": entities,
        }
    }


def has_messages(person: Person) -> Callable[[], bool]:
    return lambda: bool(person.messages)


async def table_counts(harness: BotHarness) -> dict[str, int]:
    async with harness.sessions() as session:
        counts = {}
        for name, table in Base.metadata.tables.items():
            assert isinstance(table, Table)
            counts[name] = int(await session.scalar(select(func.count()).select_from(table)) or 0)
        return counts


async def joined(harness: BotHarness, unit: int, user_id: int, role: InviteRole) -> Person:
    citizen = await harness.citizen(unit, "Anna")
    person = harness.person(user_id)
    await person.send("/start " + await harness.invite(role, citizen_id=citizen))
    await person.press("Ja, jeg vil gerne være med")
    return person


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


async def test_presses_on_deleted_messages_odd_digits_and_strangers(
    harness: BotHarness,
    standin: BotAPIStandIn,
    log: pytest.LogCaptureFixture,
    database_url: str,
) -> None:
    rng = random.Random(20261204)
    unit = await harness.unit()
    await harness.open_round(unit, RoundAudience.BOTH)
    victims = []
    for number in range(3):
        victim = await joined(harness, unit, 80_000 + number, InviteRole.RELATIVE)
        await victim.press("Ofte")
        victims.append(victim)
    pressers = [
        await joined(harness, unit, 81_000 + n, rng.choice(list(InviteRole)[:2])) for n in range(6)
    ]
    staff = harness.person(82_000)
    await staff.send("/start " + await harness.invite(InviteRole.STAFF, unit_id=unit))
    await staff.send("/runde")
    strangers = [harness.person(83_000 + n) for n in range(4)]
    for stranger in strangers:
        await stranger.send("/start")

    async with harness.sessions() as session:
        deliveries = sorted(await session.scalars(select(Delivery.id)))
        victim_ids = {v.user_id for v in victims}
        victim_rows = await victim_state(session, victim_ids)
    before = await table_counts(harness)

    callbacks: list[str] = []
    deleted = 0
    first_call = len(standin.calls)
    total = UPDATES["sqlite" if database_url.startswith("sqlite") else "postgres"]
    for _ in range(total):
        roll = rng.random()
        if roll < 0.75:
            person = rng.choice([*pressers, *pressers, *strangers, staff])
            if not person.messages:
                # Everything deleted: /start brings the current screen (or a hello) back.
                standin.inject_update(text_update(person, "/start"))
                await standin.wait_for(has_messages(person), timeout=10)
            message = rng.choice(person.messages[-4:])
            buttons = [
                b["callback_data"]
                for row in message.inline_keyboard
                for b in row
                if "callback_data" in b and b["callback_data"] != "r:start"
            ]
            if buttons and rng.random() < 0.5:
                data = rng.choice(buttons)
            else:
                data = forged_data(rng, deliveries)
                if person is staff and data.startswith("r:start"):
                    continue  # a real new round is a legitimate write, not this test's
            if rng.random() < 0.05:
                standin.make_uneditable(person.chat_id, message.message_id)
            callbacks.append(person.press_data_nowait(data, message_id=message.message_id))
            if rng.random() < 0.1:
                person.delete_message(message.message_id)  # gone before the bot edits it
                deleted += 1
        elif roll < 0.92:
            person = rng.choice([*pressers, *strangers])
            text = rng.choice(COMMANDS) if rng.random() < 0.4 else random_text(rng)
            standin.inject_update(text_update(person, text))
        else:
            chat_type = rng.choice(["group", "supergroup", "channel"])
            chat = {"id": -100_500, "type": chat_type, "title": "Gruppe"}
            body = {
                "message_id": rng.randint(1, 10**6),
                "date": int(time.time()),
                "chat": chat,
                "text": rng.choice([*COMMANDS, "a:1:0:1"]),
            }
            key = "channel_post" if chat_type == "channel" else "message"
            if key == "message":
                body["from"] = {"id": 84_000, "is_bot": False, "first_name": "Fremmed"}
            standin.inject_update({key: body})
        if standin.pending_updates > 40:
            await standin.wait_for(lambda: standin.pending_updates < 10, timeout=30)

    def answered() -> Counter[str]:
        return Counter(
            str(c.params.get("callback_query_id"))
            for c in standin.calls[first_call:]
            if c.method == "answerCallbackQuery"
        )

    await standin.wait_for(lambda: set(callbacks) <= set(answered()), timeout=90)
    await standin.wait_for(lambda: standin.pending_updates == 0, timeout=30)
    await harness.stop()  # the updates in hand are finished; nothing more comes

    # 0 Tracebacks: no record carries an exception, and no text shows one.
    faults = [r for r in log.records if r.exc_info or "Traceback" in r.getMessage()]
    assert faults == [], f"{len(faults)} faults, the first: {faults[0].getMessage()}"
    assert "Traceback" not in log.text
    # Every press answered exactly once, and Telegram took every answer.
    answers = answered()
    assert set(answers) == set(callbacks) and set(answers.values()) == {1}
    assert all(c.ok for c in standin.calls_of("answerCallbackQuery"))
    assert len(callbacks) > total // 2
    # Telegram's limits kept: the only refusals are the deleted and uneditable messages'.
    refused = Counter(
        c.description for c in standin.calls[first_call:] if not c.ok and c.method != "getUpdates"
    )
    assert set(refused) <= EXPECTED_REFUSALS, refused
    assert deleted > 0 and refused[ERR_EDIT_NOT_FOUND] > 0
    # Groups and channels get nothing.
    assert not any(m.from_bot for m in standin.chat(-100_500))

    # 0 foreign writes: the victims' rows as they were, nothing for strangers, and no
    # table grew but those the people in the fuzz may add to for themselves.
    async with harness.sessions() as session:
        assert await victim_state(session, victim_ids) == victim_rows
        stranger_ids = [s.user_id for s in strangers] + [84_000]
        assert not list(
            await session.scalars(
                select(TelegramAccount.id).where(TelegramAccount.telegram_user_id.in_(stranger_ids))
            )
        )
    after = await table_counts(harness)
    grown = {name for name in after if after[name] > before[name]}
    assert grown <= MAY_GROW, {name: (before[name], after[name]) for name in grown - MAY_GROW}
    assert all(v.last.text.startswith("Spørgsmål 2 af 7") for v in victims)


async def victim_state(session: Any, telegram_ids: set[int]) -> list[tuple[Any, ...]]:
    """Everything stored about the victims: accounts, respondents, deliveries, answers."""
    accounts = select(TelegramAccount.id).where(TelegramAccount.telegram_user_id.in_(telegram_ids))
    people = select(Respondent.id).where(Respondent.account_id.in_(accounts))
    rows: list[tuple[Any, ...]] = []
    for statement in (
        select(TelegramAccount.id, TelegramAccount.locale, TelegramAccount.stopped_at).where(
            TelegramAccount.id.in_(accounts)
        ),
        select(Respondent.id, Respondent.citizen_id).where(Respondent.id.in_(people)),
        select(Delivery.id, Delivery.status, Delivery.position).where(
            Delivery.respondent_id.in_(people)
        ),
        select(Answer.delivery_id, Answer.item_id, Answer.kind, Answer.value).where(
            Answer.delivery_id.in_(select(Delivery.id).where(Delivery.respondent_id.in_(people)))
        ),
    ):
        rows.extend(tuple(row) for row in (await session.execute(statement)).all())
    return sorted(rows, key=repr)
