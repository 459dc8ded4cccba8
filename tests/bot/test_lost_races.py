"""A press that loses a race with another update of the same person (their /slet at the
same moment, a deadlock PostgreSQL breaks) changes nothing, is answered with "try again"
and is logged in one line, not as a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import lost_race
from storage.models import InviteRole, RoundDraft, TelegramAccount
from surveys.privacy import rights as privacy
from tests.harness import BotHarness

TRY_AGAIN = "Der er lige nu et teknisk problem hos os. Prøv igen om lidt."


async def database_error(sessions: async_sessionmaker[AsyncSession], sql: str) -> DBAPIError:
    async with sessions() as session:
        with pytest.raises(DBAPIError) as raised:
            await session.execute(text(sql))
        return raised.value


async def test_a_row_deleted_meanwhile_is_a_lost_race_and_a_duplicate_is_not(
    harness: BotHarness,
) -> None:
    # A draft for an account that is not there (any more): the foreign key refuses it.
    missing = await database_error(
        harness.sessions,
        "INSERT INTO round_drafts (account_id, unit_ids, updated_at) "
        "VALUES (4242, '[]', CURRENT_TIMESTAMP)",
    )
    assert isinstance(missing, IntegrityError) and lost_race(missing)
    unit = await harness.unit()
    duplicate = await database_error(
        harness.sessions, f"INSERT INTO units (id, name, kind) VALUES ({unit}, 'X', 'care_home')"
    )
    assert isinstance(duplicate, IntegrityError) and not lost_race(duplicate)


async def test_a_wizard_press_while_the_person_deletes_their_data(
    harness: BotHarness, caplog: pytest.LogCaptureFixture, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: the two cannot interleave there")
    caplog.set_level(logging.INFO)
    unit = await harness.unit()
    staff = harness.person(9001)
    await staff.send("/start " + await harness.invite(InviteRole.STAFF, unit_id=unit))
    await staff.send("/runde")
    async with harness.sessions() as deleting:
        account = (
            await deleting.execute(
                select(TelegramAccount).where(TelegramAccount.telegram_user_id == 9001)
            )
        ).scalar_one()
        await privacy.delete_my_data(deleting, account)
        await deleting.flush()  # /slet, not yet committed: the account row is locked
        pressed = staff.press_nowait("☐ Plejecenter Åbakken")
        # The press creates the draft, whose foreign key waits for the deleted account.
        async with harness.sessions() as watcher:
            for _ in range(200):
                waiting = await watcher.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                )
                if waiting:
                    break
                await asyncio.sleep(0.05)
            assert waiting, "the press never waited for the deleted account"
        await deleting.commit()
    answer = await staff.wait_answer(pressed)
    assert answer.show_alert and answer.text == TRY_AGAIN
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RoundDraft)) == 0
        assert await session.scalar(select(func.count()).select_from(TelegramAccount)) == 0
    assert not [r for r in caplog.records if r.exc_info]
    [line] = [r for r in caplog.records if "lost a race" in r.getMessage()]
    assert line.levelno == logging.WARNING and "foreign key" in line.getMessage()
