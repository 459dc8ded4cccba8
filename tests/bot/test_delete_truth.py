"""/slet tells the truth: it deletes at once every row that names the person, and what
it cannot delete (answers already cut from them by an anonymous round) it says, with the
date the purge deletes them. A language chosen before joining is kept for the
information text. Through the real dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.i18n import date_text
from standin import Person
from storage.housekeeping import forget_old_bookkeeping
from storage.models import (
    Answer,
    Base,
    Comment,
    Delivery,
    DeliveryStatus,
    InviteRole,
    LanguageChoice,
    Respondent,
    Round,
    RoundAudience,
    TelegramAccount,
)
from surveys.fieldwork import rounds
from surveys.privacy.retention import deleted_by
from surveys.registry.people import find_unit
from tests.harness import BotHarness, standard_round

WRONG_LINK = "/start NotARealTokenAtAll_1234567890abcdef"


async def scan(harness: BotHarness, telegram_id: int, words: list[str]) -> list[str]:
    """Where, in any column of any table of the models, the Telegram id (as a number or
    text) or one of the words (any case) occurs."""
    needles = [w.lower() for w in [*words, str(telegram_id)]]
    found = []
    async with harness.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                for column, value in zip(table.columns, row, strict=True):
                    where = f"{table.name}.{column.name}"
                    if isinstance(value, bool) or value is None:
                        continue
                    if isinstance(value, int):
                        if value == telegram_id:
                            found.append(where)
                    elif isinstance(value, str | dict | list):
                        text = value if isinstance(value, str) else json.dumps(value)
                        found += [f"{where}: {n}" for n in needles if n in text.lower()]
    return found


async def count(harness: BotHarness, query: Any) -> int:
    async with harness.sessions() as session:
        return int(await session.scalar(query) or 0)


def answers_of(round_id: int) -> Any:
    return (
        select(func.count())
        .select_from(Answer)
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .where(Delivery.round_id == round_id)
    )


def comments_of(round_id: int) -> Any:
    return (
        select(func.count())
        .select_from(Comment)
        .join(Delivery, Delivery.id == Comment.delivery_id)
        .where(Delivery.round_id == round_id)
    )


async def answer_all(person: Person, comment: str) -> None:
    """Answer every question ("Ved ikke"), then leave a comment, which finishes."""
    while person.last.text.startswith("Spørgsmål"):
        await person.press("Ved ikke")
    replies = await person.send(comment, expect=2)
    assert "kommentar er gemt" in replies[0].text


async def start_round(harness: BotHarness, unit_id: int, *, anonymous: bool) -> int:
    async with harness.sessions() as session:
        round_, _ = await standard_round(
            session,
            [await find_unit(session, str(unit_id))],
            RoundAudience.BOTH,
            anonymous=anonymous,
        )
        await session.commit()
        return round_.id


@pytest.mark.parametrize("kind", [InviteRole.CITIZEN, InviteRole.RELATIVE])
async def test_slet_leaves_no_row_that_names_the_person_and_says_what_stays(
    harness: BotHarness, kind: InviteRole
) -> None:
    telegram_id = 8_765_432_101
    first_name, username = (
        ("Gudrun", "gudrun_h") if kind == InviteRole.CITIZEN else ("Karen", "karen_b")
    )
    unit = await harness.unit("Plejecenter Syd")
    citizen = await harness.citizen(unit, "Gudrun")  # the citizen's name, from the municipality
    anonymous_round = await start_round(harness, unit, anonymous=True)
    token = await harness.invite(kind, citizen_id=citizen)
    person = harness.standin.person(telegram_id, first_name=first_name, username=username)

    # Before joining: a language chosen, and a wrong link.
    await person.send("/sprog")
    await person.press("🇩🇰 Dansk")
    assert "Brug linket fra dit brev" in person.last.text
    [refused] = await person.send(WRONG_LINK)
    assert "Det link kender jeg ikke" in refused.text
    await person.send(f"/start {token}")
    await person.press("Ja, jeg vil gerne være med")
    # An anonymous round, finished with a comment: cut from the person at once.
    await answer_all(person, "Maden er god, og personalet er venligt.")
    async with harness.sessions() as session:
        await rounds.close_round(session, anonymous_round)
        await session.commit()
        closed_at = await session.scalar(select(Round.closed_at).where(Round.id == anonymous_round))
    assert closed_at is not None
    kept_answers = await count(harness, answers_of(anonymous_round))
    assert kept_answers > 3 and await count(harness, comments_of(anonymous_round)) == 1

    # An identified round, finished with a comment that names the person: still theirs.
    identified_round = await start_round(harness, unit, anonymous=False)
    assert await harness.send_invitations() == 1
    await person.press("Start spørgeskemaet")
    await answer_all(person, f"Hilsen {first_name}")
    linked_answers = await count(harness, answers_of(identified_round))
    assert linked_answers > 3
    # And an invitation still waiting in the outbox.
    pending_round = await start_round(harness, unit, anonymous=True)

    before = await scan(harness, telegram_id, [first_name, username])
    assert any(hit.startswith("telegram_accounts.telegram_user_id") for hit in before)
    assert any(hit.startswith("invite_failures.telegram_user_id") for hit in before)
    assert any(hit.startswith("comments.text") for hit in before)

    [prompt] = await person.send("/slet")
    assert prompt.text is not None
    # What the prompt promises, read from its words.
    words = re.search(r"svar: (\d+), kommentarer: (\d+)", prompt.text)
    assert words is not None, prompt.text
    assert (int(words[1]), int(words[2])) == (linked_answers, 1)
    assert "din konto, dit sprogvalg, links du har prøvet" in prompt.text
    kept = re.search(
        r"Anonyme spørgeskemaer, du har afsluttet, eller som er lukket: (\d+)\.", prompt.text
    )
    assert kept is not None and int(kept[1]) == 1
    by = date_text(deleted_by(closed_at, harness.settings.retention_months), "da")
    assert f"senest {by}" in prompt.text
    await person.press("Ja, slet mine data")
    assert "Dine data er slettet" in person.last.text

    # Gone: nothing anywhere names them (their Telegram id, their Telegram names, and a
    # citizen's own name, which was the municipality's).
    assert await scan(harness, telegram_id, [first_name, username]) == []
    for model in (TelegramAccount, Respondent, LanguageChoice):
        assert await count(harness, select(func.count()).select_from(model)) == 0
    assert await count(harness, answers_of(identified_round)) == 0
    assert await count(harness, comments_of(identified_round)) == 0
    async with harness.sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.round_id, Delivery.status, Delivery.respondent_id, Delivery.sent_at)
                .where(Delivery.round_id.in_([identified_round, pending_round]))
                .order_by(Delivery.round_id)
            )
        ).all()
    # The two deliveries stay only as anonymous counts for the response rate.
    assert [tuple(r) for r in rows] == [
        (identified_round, DeliveryStatus.WITHDRAWN, None, None),
        (pending_round, DeliveryStatus.WITHDRAWN, None, None),
    ]
    # Kept, as the prompt said: the anonymous round's answers and comment, unlinked.
    assert await count(harness, answers_of(anonymous_round)) == kept_answers
    assert await count(harness, comments_of(anonymous_round)) == 1
    [reply] = await person.send("/mine_data")
    assert "ingen oplysninger" in reply.text


async def test_a_language_chosen_before_joining_gives_the_information_text_in_it(
    harness: BotHarness,
) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit)
    await harness.open_round(unit)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    person = harness.person(8_700_001)  # Telegram in Danish

    await person.send("/sprog")
    await person.press("🇬🇧 English")
    assert person.last.text == (
        "Now I will write in English. Use the link from your letter to get started."
    )
    [data] = await person.send("/mine_data")
    assert "Your choice of language: English" in data.text and "30 days" in data.text
    [info] = await person.send(f"/start {token}")
    assert info.text.startswith("Hello! This is the automated survey service of Testrup")
    assert "Then /slet cannot find them" in info.text
    assert info.buttons == ["Yes, I would like to take part", "No thanks", "🇩🇰 Dansk"]
    async with harness.sessions() as session:
        account = (await session.execute(select(TelegramAccount))).scalar_one()
        assert account.locale == "en"  # moved to the account, not kept twice
        assert await session.scalar(select(func.count()).select_from(LanguageChoice)) == 0
    await person.press("Yes, I would like to take part")
    assert person.last.text.startswith("Question 1 of")


async def test_someone_who_never_joined_can_see_and_delete_what_little_is_kept(
    harness: BotHarness,
) -> None:
    telegram_id = 8_700_101
    person = harness.person(telegram_id)
    [reply] = await person.send("/slet")
    assert "intet at slette" in reply.text
    await person.send("/sprog")
    await person.press("🇩🇰 Dansk")
    await person.send(WRONG_LINK)
    [data] = await person.send("/mine_data")
    assert "Dit valg af sprog: dansk" in data.text and "Links, der ikke virkede: 1" in data.text
    assert await scan(harness, telegram_id, []) != []
    [reply] = await person.send("/slet")
    assert "er slettet nu" in reply.text
    assert await scan(harness, telegram_id, []) == []
    [data] = await person.send("/mine_data")
    assert data.text == "Vi har ingen oplysninger om dig."


async def test_housekeeping_forgets_a_language_chosen_by_someone_who_never_joined(
    harness: BotHarness,
) -> None:
    person = harness.person(8_700_201)
    await person.send("/sprog")
    await person.press("🇬🇧 English")
    async with harness.sessions() as session:
        chosen = await session.scalar(select(LanguageChoice.chosen_at))
        assert isinstance(chosen, datetime)
        await forget_old_bookkeeping(session, chosen + timedelta(days=29))
        assert await session.scalar(select(func.count()).select_from(LanguageChoice)) == 1
        await forget_old_bookkeeping(session, chosen + timedelta(days=31))
        assert await session.scalar(select(func.count()).select_from(LanguageChoice)) == 0
        await session.commit()
