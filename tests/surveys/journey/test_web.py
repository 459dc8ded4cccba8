"""The journey on the web pages, against the database (SQLite and PostgreSQL), and across
channels with the real bot (tests/harness.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import (
    Answer,
    CitizenStatus,
    Comment,
    Delivery,
    DeliveryStatus,
    Invite,
    Respondent,
    RoundAudience,
    TelegramAccount,
    WebAccount,
    WebCodeFailure,
)
from storage.types import utcnow
from surveys.fieldwork.care_events import citizen_left
from surveys.journey import (
    DONT_KNOW,
    SKIP,
    CommentPrompt,
    Finished,
    LinkKeys,
    LinkOutcome,
    Question,
    Refusal,
    open_web_code,
    open_web_link,
    web_accept_information,
    web_answer,
    web_back,
    web_comment,
    web_current,
    web_resume,
    web_set_locale,
    web_stop,
    web_visitor,
)
from surveys.journey.web import GLOBAL_MAX_CODE_FAILURES
from surveys.privacy.rights import web_delete_my_data, web_my_data
from surveys.registry import people
from surveys.registry.invites import format_code, hash_code, hash_token
from tests.harness import (
    BOT_USERNAME,
    LINK_SECRET,
    BotHarness,
    answer_on_the_web,
    print_letters,
    standard_round,
)

KEYS = LinkKeys(secret=LINK_SECRET, bot_username=BOT_USERNAME)


async def _setup(
    sessions: async_sessionmaker[AsyncSession],
    *,
    name: str = "Anna",
    unit_name: str = "Plejecenter Åbakken",
    anonymous: bool = True,
    round_open: bool = True,
) -> tuple[str, str, int]:
    """A unit with one citizen, a relatives' round, and the citizen's relative's letter:
    its token, its code and the citizen's id."""
    async with sessions() as session:
        unit = await people.add_unit(session, unit_name, "care_home")
        citizen = await people.add_citizen(session, unit, name)
        citizen.relatives_wanted = 1
        if round_open:
            await standard_round(session, [unit], RoundAudience.RELATIVES, anonymous=anonymous)
        [letter] = (await print_letters(session, unit)).letters
        await session.commit()
        assert letter.code is not None
        return letter.token, letter.code, citizen.id


async def _answers(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(select(Answer.item_id, Answer.channel).order_by(Answer.id))
        return [(item, channel) for item, channel in rows]


async def test_link_and_code_open_and_a_second_device_resumes_the_same_person(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    token, code, _ = await _setup(sessions)
    async with sessions() as session:
        outcome, visitor = await open_web_link(session, token, links=KEYS)
        await session.commit()
    assert outcome == LinkOutcome.OK and visitor is not None
    assert visitor.role == "relative" and not visitor.informed and not visitor.stopped
    assert visitor.telegram_link == f"https://t.me/{BOT_USERNAME}?start={token}"
    async with sessions() as session:
        first = await web_accept_information(session, visitor.respondent_id)
        await session.commit()
    assert isinstance(first, Question) and (first.index, first.total) == (0, 7)
    async with sessions() as session:
        pressed = await web_answer(session, visitor.respondent_id, first.delivery_id, 0, "1")
        await session.commit()
    assert isinstance(pressed.shown, Question) and pressed.shown.index == 1

    # Another device: the same link, then the typed code (any case, spaces, no dashes).
    typed = " " + format_code(code).lower().replace("-", " ") + " "
    async with sessions() as session:
        again, same = await open_web_link(session, token)
        by_code, also = await open_web_code(session, typed, client="198.51.100.7", links=KEYS)
        await session.commit()
    assert again == by_code == LinkOutcome.OK
    assert same is not None and also is not None
    assert same.respondent_id == also.respondent_id == visitor.respondent_id
    assert also.informed and also.telegram_link == visitor.telegram_link
    async with sessions() as session:
        current = await web_current(session, visitor.respondent_id)
        assert await session.scalar(select(func.count()).select_from(Respondent)) == 1
        assert await session.scalar(select(func.count()).select_from(WebAccount)) == 1
        [(used_by, stored_hash)] = (
            await session.execute(select(Invite.respondent_id, Invite.code_hash))
        ).all()
    assert isinstance(current, Question) and current.index == 1
    assert used_by == visitor.respondent_id and stored_hash == hash_code(code)


async def test_language_stop_and_resume_are_kept_for_the_person(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    token, _, _ = await _setup(sessions)
    async with sessions() as session:
        _, visitor = await open_web_link(session, token)
        assert visitor is not None
        await web_set_locale(session, visitor.respondent_id, "en")
        await web_accept_information(session, visitor.respondent_id)
        await web_stop(session, visitor.respondent_id)
        await session.commit()
    async with sessions() as session:
        stopped = await web_visitor(session, visitor.respondent_id)
        await web_resume(session, visitor.respondent_id)
        await session.commit()
        resumed = await web_visitor(session, visitor.respondent_id)
    assert stopped is not None and stopped.stopped and stopped.locale == "en"
    assert resumed is not None and not resumed.stopped and resumed.informed


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement.split()[0].upper() + " " + statement.split("FROM")[-1][:30])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_unknown_expired_and_replaced_codes_are_alike_and_throttled_per_address(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    token, old_code, _ = await _setup(sessions)
    # Printing the letters again replaces the unused one: its code and link no longer work.
    async with sessions() as session:
        unit = await people.find_unit(session, "Plejecenter Åbakken")
        [letter] = (await print_letters(session, unit)).letters
        expired_unit = await people.add_unit(session, "Hjemmeplejen Vest", "home_care")
        expired_citizen = await people.add_citizen(session, expired_unit, "Bo")
        expired_citizen.relatives_wanted = 1
        [expired] = (await print_letters(session, expired_unit, days=1)).letters
        await session.commit()
    assert letter.code is not None and expired.code is not None
    later = utcnow() + timedelta(days=2)
    work: list[list[str]] = []
    for wrong in (old_code, expired.code, "ZZZZ-ZZZZ-ZZ"):
        async with sessions() as session:
            with _statements(engine) as seen:
                outcome, visitor = await open_web_code(
                    session, wrong, client="203.0.113.5", now=later - timedelta(days=1)
                )
                await session.commit()
        assert (outcome, visitor) == (LinkOutcome.UNKNOWN, None)
        work.append(seen)
    assert work[0] == work[1] == work[2]
    async with sessions() as session:
        outcome, _ = await open_web_link(session, token)
        assert outcome == LinkOutcome.UNKNOWN  # the replaced letter's link too
        # Two more wrong codes make five: now even the right code waits, at that address.
        for wrong in ("nonsense", "AAAA-AAAA-AA"):
            assert (await open_web_code(session, wrong, client="203.0.113.5"))[0] == (
                LinkOutcome.UNKNOWN
            )
        await session.commit()
        throttled, _ = await open_web_code(session, letter.code, client="203.0.113.5")
        elsewhere, visitor = await open_web_code(session, letter.code, client="192.0.2.1")
        after_wait, _ = await open_web_code(
            session, letter.code, client="203.0.113.5", now=utcnow() + timedelta(minutes=16)
        )
        stored = list(await session.scalars(select(WebCodeFailure.client_hash)))
    assert throttled == LinkOutcome.THROTTLED
    assert elsewhere == LinkOutcome.OK and visitor is not None
    assert after_wait == LinkOutcome.OK
    assert len(stored) == 5 and all("203.0.113.5" not in value for value in stored)


async def test_many_wrong_codes_from_everywhere_lock_code_entry_for_all(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    token, code, _ = await _setup(sessions)
    now = utcnow()
    async with sessions() as session:
        session.add_all(
            WebCodeFailure(client_hash=f"{number:064x}", at=now - timedelta(minutes=30))
            for number in range(GLOBAL_MAX_CODE_FAILURES + 1)
        )
        await session.commit()
    with caplog.at_level(logging.WARNING, logger="surveys.journey.web"):
        async with sessions() as session:
            locked, _ = await open_web_code(session, code, client="192.0.2.44", now=now)
            # The link (192 bits) still works, and an hour later so does the code.
            by_link, _ = await open_web_link(session, token, now=now)
            later, _ = await open_web_code(
                session, code, client="192.0.2.44", now=now + timedelta(minutes=31)
            )
    assert locked == LinkOutcome.THROTTLED and by_link == later == LinkOutcome.OK
    assert any("locked for everyone" in record.message for record in caplog.records)


@pytest.mark.parametrize("reason", [CitizenStatus.DIED, CitizenStatus.MOVED])
async def test_a_citizen_who_left_ends_the_link(
    sessions: async_sessionmaker[AsyncSession], reason: CitizenStatus
) -> None:
    token, code, citizen_id = await _setup(sessions)
    async with sessions() as session:
        _, visitor = await open_web_link(session, token)
        assert visitor is not None
        await citizen_left(session, citizen_id, reason)
        await session.commit()
    async with sessions() as session:
        by_link, nobody = await open_web_link(session, token)
        by_code, _ = await open_web_code(session, code, client="192.0.2.9")
        cookie = await web_visitor(session, visitor.respondent_id)
        current = await web_current(session, visitor.respondent_id)
    expected = (
        LinkOutcome.CITIZEN_DIED if reason == CitizenStatus.DIED else LinkOutcome.CITIZEN_MOVED
    )
    assert by_link == by_code == expected and nobody is None
    assert cookie is None and current is None


async def test_double_submit_stale_page_and_back_store_one_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    token, _, _ = await _setup(sessions, anonymous=False)
    async with sessions() as session:
        _, visitor = await open_web_link(session, token)
        assert visitor is not None
        first = await web_accept_information(session, visitor.respondent_id)
        await session.commit()
    assert isinstance(first, Question)
    me, delivery = visitor.respondent_id, first.delivery_id
    async with sessions() as session:
        done = await web_answer(session, me, delivery, 0, "2")
        twice = await web_answer(session, me, delivery, 0, "3")  # the same form again
        await session.commit()
    assert done.refusal is None and twice.refusal == Refusal.STALE
    assert isinstance(twice.shown, Question) and twice.shown.index == 1
    async with sessions() as session:
        await web_answer(session, me, delivery, 1, DONT_KNOW)
        back = await web_back(session, me, delivery, 2)
        stale_back = await web_back(session, me, delivery, 2)  # Back pressed twice
        await session.commit()
    assert isinstance(back.shown, Question) and back.shown.index == 1
    assert back.shown.selected == DONT_KNOW
    assert stale_back.refusal == Refusal.STALE
    async with sessions() as session:
        await web_answer(session, me, delivery, 1, SKIP)
        step = None
        for index in range(2, 7):
            step = (await web_answer(session, me, delivery, index, "1")).shown
        assert isinstance(step, CommentPrompt)
        finished = await web_comment(session, me, delivery, "Tak for hjælpen")
        again = await web_comment(session, me, delivery, "Tak for hjælpen")
        late = await web_answer(session, me, delivery, 3, "2")
        await session.commit()
        current = await web_current(session, me)
        comments = await session.scalar(select(func.count()).select_from(Comment))
        [(status, channel, owner)] = (
            await session.execute(select(Delivery.status, Delivery.channel, Delivery.respondent_id))
        ).all()
    assert isinstance(finished.shown, Finished) and again.refusal == Refusal.FINISHED
    assert late.refusal == Refusal.FINISHED
    assert current == Finished(delivery, None)  # not anonymous: the thank-you, by its id
    assert comments == 1 and (status, channel, owner) == ("completed", "web", me)
    answers = await _answers(sessions)
    assert len(answers) == 7 == len({item for item, _ in answers})
    assert {channel for _, channel in answers} == {"web"}


async def test_an_anonymous_round_cuts_the_link_when_the_person_finishes_on_the_web(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    token, _, _ = await _setup(sessions, anonymous=True)
    async with sessions() as session:
        on_the_web = await answer_on_the_web(session, token, 7, finish=True)
        await session.commit()
    me = on_the_web.respondent_id
    assert on_the_web.done is not None and isinstance(on_the_web.done.shown, Finished)
    async with sessions() as session:
        [(owner, status)] = (
            await session.execute(select(Delivery.respondent_id, Delivery.status))
        ).all()
        current = await web_current(session, me)
        # The person is still there (for the next round), but not tied to these answers.
        assert await session.get(Respondent, me) is not None
    assert (owner, status) == (None, "completed")
    assert current == Finished(None, None)


async def test_a_later_round_takes_a_web_person_in_with_the_same_link(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    token, _, _ = await _setup(sessions, round_open=False)
    async with sessions() as session:
        _, visitor = await open_web_link(session, token)
        assert visitor is not None
        assert await web_accept_information(session, visitor.respondent_id) is None
        unit = await people.find_unit(session, "Plejecenter Åbakken")
        await standard_round(session, [unit], RoundAudience.RELATIVES)
        await session.commit()
    async with sessions() as session:
        _, again = await open_web_link(session, token)
        assert again is not None
        step = await web_current(session, again.respondent_id)
    assert isinstance(step, Question) and step.index == 0


# ---------------------------------------------------------------- across channels


async def _harness_letter(harness: BotHarness, *, anonymous: bool = True) -> tuple[str, str]:
    token, code, _ = await _setup(harness.sessions, anonymous=anonymous)
    return token, code


async def test_start_in_telegram_and_finish_on_the_web(harness: BotHarness) -> None:
    token, code = await _harness_letter(harness)
    person = harness.person(9101)
    await person.send(f"/start {token}")
    await person.press("Ja, jeg vil gerne være med")
    assert person.last.text.startswith("Spørgsmål 1 af 7")
    await person.press("Altid")
    await person.press("Ved ikke")
    assert person.last.text.startswith("Spørgsmål 3 af 7")

    async with harness.sessions() as session:
        outcome, visitor = await open_web_code(session, code, client="192.0.2.10", links=KEYS)
        await session.commit()
    assert outcome == LinkOutcome.OK and visitor is not None and visitor.informed
    assert visitor.telegram_link == f"https://t.me/{BOT_USERNAME}"  # already in Telegram
    async with harness.sessions() as session:
        step = await web_current(session, visitor.respondent_id)
        assert isinstance(step, Question) and step.index == 2
        for index in range(2, 7):
            await web_answer(session, visitor.respondent_id, step.delivery_id, index, "2")
        done = await web_comment(session, visitor.respondent_id, step.delivery_id, None)
        await session.commit()
    assert isinstance(done.shown, Finished)
    async with harness.sessions() as session:
        [(status, channel)] = (
            await session.execute(select(Delivery.status, Delivery.channel))
        ).all()
    assert (status, channel) == ("completed", "web")
    answers = await _answers(harness.sessions)
    assert len(answers) == 7 == len({item for item, _ in answers})
    assert [channel for _, channel in answers] == ["telegram"] * 2 + ["web"] * 5
    # Back in Telegram, the finished survey is not offered again.
    [reply] = await person.send("/start")
    assert not reply.text.startswith("Spørgsmål")


async def test_start_on_the_web_and_finish_in_telegram(harness: BotHarness) -> None:
    token, _ = await _harness_letter(harness)
    async with harness.sessions() as session:
        _, visitor = await open_web_link(session, token)
        assert visitor is not None
        await web_set_locale(session, visitor.respondent_id, "da")
        step = await web_accept_information(session, visitor.respondent_id)
        assert isinstance(step, Question)
        for index in range(3):
            await web_answer(session, visitor.respondent_id, step.delivery_id, index, "1")
        await session.commit()

    person = harness.person(9201)
    # "Åbn i Telegram": the same token; no information again, the fourth question.
    await person.send(f"/start {token}")
    assert person.last.text.startswith("Spørgsmål 4 af 7")
    for _ in range(4):
        await person.press("Ved ikke")
    await person.press("Nej tak, afslut")
    async with harness.sessions() as session:
        [(status, channel)] = (
            await session.execute(select(Delivery.status, Delivery.channel))
        ).all()
        [account] = (await session.scalars(select(TelegramAccount))).all()
        assert account.informed_at is not None
        respondent = await session.get(Respondent, visitor.respondent_id)
        assert respondent is not None and respondent.account_id == account.id
        assert await session.scalar(select(func.count()).select_from(Respondent)) == 1
    assert (status, channel) == ("completed", "telegram")
    answers = await _answers(harness.sessions)
    assert len(answers) == 7 == len({item for item, _ in answers})
    assert [channel for _, channel in answers] == ["web"] * 3 + ["telegram"] * 4
    # The web link still leads to the same person, who has finished.
    async with harness.sessions() as session:
        _, again = await open_web_link(session, token)
        assert again is not None and again.respondent_id == visitor.respondent_id
        assert isinstance(await web_current(session, again.respondent_id), Finished)
    # A second Telegram user cannot take the same person over.
    stranger = harness.person(9202)
    [reply] = await stranger.send(f"/start {token}")
    assert "allerede brugt" in reply.text


async def _dump(sessions: async_sessionmaker[AsyncSession]) -> str:
    def names(connection: Connection) -> list[str]:
        return inspect(connection).get_table_names()

    async with sessions() as session:
        connection = await session.connection()
        parts: list[str] = []
        for table in await connection.run_sync(names):
            rows = await session.execute(text(f'SELECT * FROM "{table}"'))
            parts.extend(repr(tuple(row)) for row in rows)
    return "\n".join(parts)


async def test_delete_my_data_on_the_web_leaves_no_row_naming_the_person(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Syd", "care_home")
        gudrun = await people.add_citizen(session, unit, "Gudrun")
        holger = await people.add_citizen(session, unit, "Holger")
        await standard_round(session, [unit], RoundAudience.CITIZENS, anonymous=False)
        letters = (await print_letters(session, unit, RoundAudience.CITIZENS)).letters
        await session.commit()
    mine = next(letter for letter in letters if letter.first_name == "Gudrun")
    theirs = next(letter for letter in letters if letter.first_name == "Holger")
    ids = []
    for letter in (mine, theirs):
        async with sessions() as session:
            on_the_web = await answer_on_the_web(
                session, letter.token, finish=True, comment="Fin mad"
            )
            await session.commit()
            ids.append(on_the_web.respondent_id)
    async with sessions() as session:
        data = await web_my_data(session, ids[0], retention_months=13)
        assert data is not None and data.answers > 0 and data.comments == 1
        assert [p.citizen_name for p in data.participations] == ["Gudrun"]
        assert await web_delete_my_data(session, ids[0])
        await session.commit()

    dump = await _dump(sessions)
    assert "Gudrun" not in dump
    assert hash_token(mine.token) in dump  # the used letter stays as used, naming nobody
    assert mine.code is not None and hash_code(mine.code) not in dump
    assert "Holger" in dump and hash_token(theirs.token) in dump  # the neighbour is untouched
    async with sessions() as session:
        assert await session.get(Respondent, ids[0]) is None
        assert await web_visitor(session, ids[0]) is None
        assert await web_current(session, ids[0]) is None
        assert await web_my_data(session, ids[0], retention_months=13) is None
        assert (await open_web_link(session, mine.token))[0] == LinkOutcome.UNKNOWN
        rows = (
            await session.execute(
                select(Delivery.status, Delivery.respondent_id).order_by(Delivery.id)
            )
        ).all()
        invite = (
            await session.execute(
                select(Invite.respondent_id, Invite.salt).where(
                    Invite.token_hash == hash_token(mine.token)
                )
            )
        ).one()
        mine_left = await session.scalar(
            select(func.count()).select_from(WebAccount).where(WebAccount.respondent_id == ids[0])
        )
    assert sorted((status, owner) for status, owner in rows) == sorted(
        [(DeliveryStatus.WITHDRAWN, None), (DeliveryStatus.COMPLETED, ids[1])]
    )
    assert tuple(invite) == (None, None) and mine_left == 0
    assert holger.id != gudrun.id
