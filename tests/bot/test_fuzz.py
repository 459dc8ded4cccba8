"""Thousands of random and hostile updates through the real dispatcher: no unhandled
exception, every private message answered, no forged press changing another's answers."""

from __future__ import annotations

import logging
import random
import string
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from standin import BotAPIStandIn
from storage.models import Answer, InviteRole, RoundAudience
from tests.harness import BotHarness

UPDATES = 1500
LANGUAGE_CODES = ["", "en_US", "zh-hans", "da", "en", "xx-YY", None, "DA", "en-GB"]
COMMANDS = [
    "/start",
    "/hjaelp",
    "/help",
    "/sprog",
    "/stop",
    "/mine_data",
    "/slet",
    "/runde",
    "/status",
    "/eksport",
    "/foo",
    "/start@pejling_test_bot",
    "/",
]
TEXT_ALPHABET = string.printable + "æøåÆØÅ😀🙂☑✓<>&\"'\u200b\u202e\x00"


def random_text(rng: random.Random) -> str:
    length = rng.choice([0, 1, 5, 40, 300, 1001, 5000])
    return "".join(rng.choice(TEXT_ALPHABET) for _ in range(length))


def random_callback(rng: random.Random, deliveries: list[int]) -> str:
    delivery = rng.choice([*deliveries, 0, -1, 10**12])
    return rng.choice(
        [
            f"a:{delivery}:{rng.randint(-1, 12)}:{rng.choice(['1', '5', '9', 'x', 's', '', '0'])}",
            f"b:{delivery}:{rng.randint(-1, 12)}",
            f"g:{delivery}",
            f"f:{delivery}:{rng.randint(0, 12)}",
            f"i:{rng.choice(['yes', 'no', 'en', 'da', 'zz'])}",
            f"l:{rng.choice(['da', 'en', 'de', ''])}",
            f"del:{rng.choice(['1', '0', 'true', 'x'])}",
            f"r:{rng.choice(['unit', 'next', 'survey', 'audience', 'closes', 'start', 'x'])}:"
            f"{rng.choice(['1', '2', 'standard', 'both', '14', '', '99'])}",
            random_text(rng)[:64],
            "",
        ]
    )


def user(user_id: int, rng: random.Random) -> dict[str, Any]:
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Fuzz"}
    code = rng.choice(LANGUAGE_CODES)
    if code is not None:
        person["language_code"] = code
    return person


def message(
    user_id: int, chat: dict[str, Any], rng: random.Random, **content: Any
) -> dict[str, Any]:
    return {
        "message_id": rng.randint(1, 10**6),
        "date": int(time.time()),
        "chat": chat,
        "from": user(user_id, rng),
        **content,
    }


def private_content(rng: random.Random) -> dict[str, Any]:
    kind = rng.random()
    if kind < 0.45:
        command = rng.choice(COMMANDS)
        text = f"{command} {random_text(rng)[:80]}".strip() if rng.random() < 0.6 else command
        return {
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        }
    if kind < 0.8:
        return {"text": random_text(rng) or "?"}
    if kind < 0.9:
        return {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        }
    return {"photo": [{"file_id": "p1", "file_unique_id": "q1", "width": 90, "height": 90}]}


@pytest.fixture
def quiet_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR)
    return caplog


async def test_random_and_hostile_updates(
    harness: BotHarness, standin: BotAPIStandIn, quiet_logs: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(20261123)
    unit = await harness.unit()
    await harness.open_round(unit, RoundAudience.BOTH)
    # Victims: people mid-survey who press nothing during the fuzz.
    victims = []
    for number in range(3):
        citizen = await harness.citizen(unit, ["Alma", "Bodil", "Carl"][number])
        person = harness.person(60_000 + number)
        await person.send("/start " + await harness.invite(InviteRole.RELATIVE, citizen_id=citizen))
        await person.press("Ja, jeg vil gerne være med")
        await person.press("Ofte")
        victims.append(person)
    # Pressers: people in the survey who send random and forged button data.
    pressers = []
    for number in range(3):
        citizen = await harness.citizen(unit, ["Dora", "Erik", "Frida"][number])
        person = harness.person(61_000 + number)
        await person.send("/start " + await harness.invite(InviteRole.CITIZEN, citizen_id=citizen))
        await person.press("Ja, jeg vil gerne være med")
        pressers.append(person)
    async with harness.sessions() as session:
        before = (
            await session.execute(select(Answer.delivery_id, Answer.item_id, Answer.value))
        ).all()
        deliveries = sorted({row[0] for row in before} | set(range(1, 12)))
    victim_rows = sorted(before)

    writers = [harness.standin.person(62_000 + n, started=True) for n in range(12)]
    expected: Counter[int] = Counter()
    callbacks: list[str] = []
    for _ in range(UPDATES):
        roll = rng.random()
        if roll < 0.55:
            writer = rng.choice(writers)
            chat = {"id": writer.user_id, "type": "private", "first_name": "Fuzz"}
            key = "edited_message" if rng.random() < 0.05 else "message"
            content = private_content(rng)
            if key == "edited_message":
                content = {"text": random_text(rng) or "x", "edit_date": int(time.time())}
            standin.inject_update({key: message(writer.user_id, chat, rng, **content)})
            expected[writer.user_id] += 1
        elif roll < 0.85:
            presser = rng.choice(pressers)
            target = rng.choice(presser.messages).message_id
            callbacks.append(
                presser.press_data_nowait(random_callback(rng, deliveries), message_id=target)
            )
        elif roll < 0.95:
            group = {"id": -100_500, "type": rng.choice(["group", "supergroup"]), "title": "Gruppe"}
            content = private_content(rng)
            standin.inject_update({"message": message(63_000, group, rng, **content)})
        else:
            channel = {"id": -100_600, "type": "channel", "title": "Kanal"}
            standin.inject_update(
                {
                    "channel_post": {
                        "message_id": rng.randint(1, 10**6),
                        "date": int(time.time()),
                        "chat": channel,
                        "text": random_text(rng) or "x",
                    }
                }
            )
        if standin.pending_updates > 40:
            await standin.wait_for(lambda: standin.pending_updates < 10, timeout=30)

    def replies(chat_id: int) -> int:
        return sum(1 for m in standin.chat(chat_id) if m.from_bot) + sum(
            1
            for c in standin.calls_of("editMessageText")
            if c.ok and c.params.get("chat_id") == chat_id
        )

    await standin.wait_for(
        lambda: all(replies(chat) >= count for chat, count in expected.items()), timeout=60
    )
    answered = {
        str(c.params.get("callback_query_id")) for c in standin.calls_of("answerCallbackQuery")
    }
    await standin.wait_for(
        lambda: (
            set(callbacks)
            <= {
                str(c.params.get("callback_query_id"))
                for c in standin.calls_of("answerCallbackQuery")
            }
        ),
        timeout=60,
    )
    assert answered or callbacks

    errors = [r for r in quiet_logs.records if r.levelno >= logging.ERROR]
    assert errors == [], errors[0].getMessage() if errors else ""
    for chat_id in (-100_500, -100_600):
        assert not any(m.from_bot for m in standin.chat(chat_id))
    async with harness.sessions() as session:
        after = (
            await session.execute(select(Answer.delivery_id, Answer.item_id, Answer.value))
        ).all()
    victim_deliveries = {row[0] for row in victim_rows}
    assert sorted(row for row in after if row[0] in victim_deliveries) == victim_rows
    assert all(v.last.text.startswith("Spørgsmål 2 af 7") for v in victims)
