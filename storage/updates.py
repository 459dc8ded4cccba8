"""Claiming a Telegram update: the dedup marker and the sender's account, at the start of
the update's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate, TelegramAccount
from storage.types import utcnow


async def claim_update(
    session: AsyncSession, update_id: int, telegram_user_id: int | None
) -> tuple[bool, TelegramAccount | None]:
    """Mark ``update_id`` as processed in this transaction and load the account of
    ``telegram_user_id``. False when the update was already processed (or is being
    processed: a concurrent transaction with the same id waits here until the first
    commits, then sees the conflict); a rollback forgets the marker again.

    On PostgreSQL this is one statement (the insert in a CTE); SQLite has no
    data-modifying CTE, so it takes two.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    marker = (
        insert(ProcessedUpdate)
        .values(update_id=update_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )
    if dialect == "postgresql" and telegram_user_id is not None:
        claimed = marker.cte("claimed")
        row = (
            await session.execute(
                select(claimed.c.update_id, TelegramAccount)
                .select_from(claimed)
                .outerjoin(TelegramAccount, TelegramAccount.telegram_user_id == telegram_user_id)
            )
        ).one_or_none()
        return (False, None) if row is None else (True, row[1])
    if (await session.execute(marker)).one_or_none() is None:
        return False, None
    if telegram_user_id is None:
        return True, None
    account = await session.scalar(
        select(TelegramAccount).where(TelegramAccount.telegram_user_id == telegram_user_id)
    )
    return True, account
