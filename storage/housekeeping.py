"""Housekeeping of the bot's own bookkeeping tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InviteFailure, ProcessedUpdate, WebCodeFailure

KEEP_PROCESSED_UPDATES = timedelta(days=2)
KEEP_INVITE_FAILURES = timedelta(days=1)


async def forget_old_bookkeeping(session: AsyncSession, now: datetime) -> None:
    """Drop update ids older than Telegram would ever redeliver, and old wrong tokens
    and codes."""
    await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - KEEP_PROCESSED_UPDATES)
    )
    await session.execute(
        delete(InviteFailure).where(InviteFailure.at < now - KEEP_INVITE_FAILURES)
    )
    await session.execute(
        delete(WebCodeFailure).where(WebCodeFailure.at < now - KEEP_INVITE_FAILURES)
    )
