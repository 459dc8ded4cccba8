"""Housekeeping of the bot's own bookkeeping tables."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InviteFailure, LanguageChoice, ProcessedUpdate, WebCodeFailure

KEEP_PROCESSED_UPDATES = timedelta(days=2)
KEEP_INVITE_FAILURES = timedelta(days=1)
KEEP_LANGUAGE_CHOICES = timedelta(days=30)
"""How long a language chosen before joining waits for the person to open their invite."""


async def forget_old_bookkeeping(session: AsyncSession, now: datetime) -> None:
    """Drop update ids older than Telegram would ever redeliver, old wrong tokens and
    codes, and languages chosen by people who never joined."""
    await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < now - KEEP_PROCESSED_UPDATES)
    )
    await session.execute(
        delete(InviteFailure).where(InviteFailure.at < now - KEEP_INVITE_FAILURES)
    )
    await session.execute(
        delete(WebCodeFailure).where(WebCodeFailure.at < now - KEEP_INVITE_FAILURES)
    )
    await session.execute(
        delete(LanguageChoice).where(LanguageChoice.chosen_at < now - KEEP_LANGUAGE_CHOICES)
    )
