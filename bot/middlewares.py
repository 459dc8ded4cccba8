"""Middlewares: a database session per update, no update handled twice, and the figures
of how long a press takes."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.metrics import Metrics
from storage.updates import claim_update
from surveys.questionnaire.translation import SOURCE_LOCALE

log = logging.getLogger(__name__)


# What another transaction at the same moment can do to this one: PostgreSQL breaks a
# deadlock or a serialization conflict by failing one side, and a row this one points to
# may have been deleted meanwhile (a foreign key). Nothing of the update was stored, and
# the same update a moment later goes through.
RACE_SQLSTATES = frozenset({"40P01", "40001", "23503"})


def lost_race(error: DBAPIError) -> bool:
    """Whether a database error is another update's transaction getting in the way."""
    if getattr(error.orig, "sqlstate", None) in RACE_SQLSTATES:
        return True
    return "FOREIGN KEY constraint failed" in str(error.orig)  # SQLite's words


class DatabaseMiddleware(BaseMiddleware):
    """Opens a session for each update, loads the person's account, commits at the end.

    The update id is written first, in the same transaction as the handler's changes, so
    a redelivered update (Telegram retries; several processes) is skipped, and one whose
    handling failed is not marked as done. Marker and account take one statement on
    PostgreSQL (two on SQLite): a button press is the bot's hottest path.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        i18n: I18n,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.metrics = metrics or Metrics()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event_: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event_, Update)
        try:
            return await self._handle(handler, event_, data)
        except (OperationalError, InterfaceError, OSError, TimeoutError) as error:
            # The database is away (restarting, network): nothing was stored, so say so
            # and let the person try again; the pool reconnects by itself afterwards.
            log.warning("database unavailable for update %s: %s", event_.update_id, error)
            self.metrics.database_errors.labels(component="updates").inc()
            await self._try_again_shortly(event_, data)
            return UNHANDLED
        except StaleDataError as error:
            # Another update of the same person changed or deleted the row meanwhile (say
            # /slet and a button at once): nothing of this one was stored.
            log.info("update %s lost a race with another update: %s", event_.update_id, error)
            await self._try_again_shortly(event_, data)
            return UNHANDLED
        except DBAPIError as error:
            if not lost_race(error):
                raise
            log.warning(
                "update %s lost a race with another update: %s",
                event_.update_id,
                str(error.orig).splitlines()[0],
            )
            await self._try_again_shortly(event_, data)
            return UNHANDLED

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event_: Update,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        user_id = user.id if user else None
        async with self.sessions() as session:
            try:
                fresh, account = await claim_update(session, event_.update_id, user_id)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                # A pooled connection died meanwhile (the database restarted): this first
                # statement finds out before anything happened, so it runs once more on a
                # fresh connection. Cheaper than pinging the database before every update.
                log.info("update %s: reconnecting to the database (%s)", event_.update_id, error)
                await session.rollback()
                fresh, account = await claim_update(session, event_.update_id, user_id)
            if not fresh:
                log.info("update %s was already processed; skipped", event_.update_id)
                return UNHANDLED
            data["session"] = session
            data["account"] = account
            result = await handler(event_, data)
            await session.commit()
            return result

    async def _try_again_shortly(self, update: Update, data: dict[str, Any]) -> None:
        bot: Bot | None = data.get("bot")
        if bot is None:
            return
        with self.i18n.context(), self.i18n.use_locale(SOURCE_LOCALE):
            text = _("Der er lige nu et teknisk problem hos os. Prøv igen om lidt.")
        try:
            if update.callback_query is not None:
                await bot.answer_callback_query(update.callback_query.id, text, show_alert=True)
            elif update.message is not None and update.message.chat.type == ChatType.PRIVATE:
                await bot.send_message(update.message.chat.id, text)
        except TelegramAPIError as error:
            log.warning("could not tell the person to try again: %s", error)


class UpdateMetricsMiddleware(BaseMiddleware):
    """Times every button press (callback query) from its arrival to its committed
    answer, and counts the database errors that escape an update's handling."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event_: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event_, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        except SQLAlchemyError:
            self.metrics.database_errors.labels(component="updates").inc()
            raise
        finally:
            if isinstance(event_, Update) and event_.callback_query is not None:
                self.metrics.press_duration.labels(outcome=outcome).observe(
                    time.perf_counter() - started
                )
