"""Middlewares: a database session per update, and no update handled twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update, User
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage.models import ProcessedUpdate
from surveys.journey import find_account

log = logging.getLogger(__name__)


class DatabaseMiddleware(BaseMiddleware):
    """Opens a session for each update, loads the person's account, commits at the end.

    The update id is written in the same transaction as the handler's changes, so a
    redelivered update (Telegram retries; several processes) is skipped, and one whose
    handling failed is not marked as done.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event_: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event_, Update)
        async with self.sessions() as session:
            if await session.get(ProcessedUpdate, event_.update_id) is not None:
                log.info("update %s was already processed; skipped", event_.update_id)
                return UNHANDLED
            _mark_processed_on_commit(session, event_.update_id)
            user: User | None = data.get("event_from_user")
            data["session"] = session
            data["account"] = await find_account(session, user.id) if user else None
            try:
                result = await handler(event_, data)
                await session.commit()
            except IntegrityError:
                await session.rollback()
                if await session.get(ProcessedUpdate, event_.update_id) is not None:
                    log.info("update %s was processed concurrently; skipped", event_.update_id)
                    return UNHANDLED
                raise
            return result


def _mark_processed_on_commit(session: AsyncSession, update_id: int) -> None:
    def add_marker(sync_session: Session) -> None:
        sync_session.add(ProcessedUpdate(update_id=update_id))

    event.listen(session.sync_session, "before_commit", add_marker, once=True)
