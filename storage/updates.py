"""Claiming a Telegram update: the dedup marker and the sender's account, at the start of
the update's transaction."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate, TelegramAccount
from storage.types import utcnow

_BEGIN_IMMEDIATE = text("BEGIN IMMEDIATE")
SQLITE_WRITER_PATIENCE = 30.0  # seconds an update waits for SQLite's writer, in all


@lru_cache(maxsize=8)
def _statements(dialect: str) -> tuple[Any, Any, Any]:
    """The marker insert, the account look-up, and both in one (PostgreSQL only); built
    once, since every update runs them."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    marker = (
        insert(ProcessedUpdate)
        .values(update_id=bindparam("marker_id"), processed_at=bindparam("marker_at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )
    account = select(TelegramAccount).where(
        TelegramAccount.telegram_user_id == bindparam("telegram_user_id")
    )
    claimed = marker.cte("claimed")
    both = (
        select(claimed.c.update_id, TelegramAccount)
        .select_from(claimed)
        .outerjoin(
            TelegramAccount, TelegramAccount.telegram_user_id == bindparam("telegram_user_id")
        )
    )
    return marker, account, both


async def claim_update(
    session: AsyncSession, update_id: int, telegram_user_id: int | None
) -> tuple[bool, TelegramAccount | None]:
    """Mark ``update_id`` as processed in this transaction and load the account of
    ``telegram_user_id``. False when the update was already processed (or is being
    processed: a concurrent transaction with the same id waits here until the first
    commits, then sees the conflict); a rollback forgets the marker again.

    On PostgreSQL this is one statement (the insert in a CTE); SQLite has no
    data-modifying CTE, so it takes two, after taking the writer's lock.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    marker, account, both = _statements(dialect)
    params = {"marker_id": update_id, "marker_at": utcnow()}
    if dialect == "postgresql" and telegram_user_id is not None:
        params["telegram_user_id"] = telegram_user_id
        row = (await session.execute(both, params)).one_or_none()
        return (False, None) if row is None else (True, row[1])
    await _take_sqlite_writer(session)
    if (await session.execute(marker, params)).one_or_none() is None:
        return False, None
    if telegram_user_id is None:
        return True, None
    found = await session.scalar(account, {"telegram_user_id": telegram_user_id})
    return True, found


async def _take_sqlite_writer(session: AsyncSession) -> None:
    """Take SQLite's one writer's lock before anything else. A transaction that reads
    first and writes later fails at once ("database is locked", without waiting) when
    another wrote in between; one that holds the lock from its start cannot. The busy
    handler is no queue, though: with many updates at once one can lose the race for the
    lock again and again, so a BEGIN that timed out is tried again, for at most
    SQLITE_WRITER_PATIENCE in all. Nothing has happened yet, so trying again is safe.
    (Transaction control, like the BEGIN asyncpg sends on PostgreSQL, is not counted
    among a press's statements.)"""
    deadline = time.monotonic() + SQLITE_WRITER_PATIENCE
    while True:
        try:
            await session.execute(_BEGIN_IMMEDIATE)
            return
        except OperationalError as error:
            if "locked" not in str(error.orig) or time.monotonic() >= deadline:
                raise
            await session.rollback()
