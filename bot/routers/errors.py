"""What is left when handling an update failed: no press is left spinning.

aiogram hands an exception a handler raised to these handlers (its ``errors`` observer)
after the database middleware has rolled back what was not committed. A refusal Telegram
is expected to give, or Telegram being away or busy, is logged as what it is, in
one line; anything else is a fault of the bot, logged with its traceback. Either way the
person's button stops spinning.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import normalise_locale

log = logging.getLogger(__name__)

# Telegram's answer to a second answer of a press, or to one after about 15 seconds.
QUERY_TOO_OLD = "query is too old"


async def press_answered_too_late(event: ErrorEvent) -> None:
    """The press was answered already, or too late for Telegram: nothing left to do."""
    assert isinstance(event.exception, TelegramBadRequest)
    log.info(
        "update %s: Telegram took no answer to the press (%s)",
        event.update.update_id,
        event.exception.message,
    )


# Telegram away or busy while the bot answered: a dropped connection or a timeout, a 5xx,
# or flood control. Not the bot's fault, and nothing a traceback would explain.
UNAVAILABLE = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)


async def telegram_unavailable(event: ErrorEvent, i18n: I18n) -> None:
    """Telegram could not take the answer: one line, and a press is still answered."""
    assert isinstance(event.exception, TelegramAPIError)
    log.warning(
        "update %s: Telegram could not take the answer (%s)",
        event.update.update_id,
        event.exception.message,
    )
    await _try_again_shortly(event, i18n)


async def press_failed(event: ErrorEvent, i18n: I18n) -> None:
    """A fault while handling a press: logged with its traceback, and the press answered
    so the person can try again."""
    log.error(
        "update %s: handling the press failed",
        event.update.update_id,
        exc_info=event.exception,
    )
    await _try_again_shortly(event, i18n)


async def _try_again_shortly(event: ErrorEvent, i18n: I18n) -> None:
    callback = event.update.callback_query
    if callback is None or callback.bot is None:
        return
    with i18n.context(), i18n.use_locale(normalise_locale(callback.from_user.language_code)):
        text = _("Der er lige nu et teknisk problem hos os. Prøv igen om lidt.")
    try:
        await callback.answer(text, show_alert=True)
    except TelegramAPIError as error:
        # Answered before the fault, or Telegram is away: the log above says what matters.
        log.info("update %s: could not answer the press (%s)", event.update.update_id, error)


def make_router() -> Router:
    """A fresh router: aiogram attaches a router to one dispatcher only."""
    router = Router(name="errors")
    router.errors.register(
        press_answered_too_late,
        ExceptionTypeFilter(TelegramBadRequest),
        F.exception.message.contains(QUERY_TOO_OLD),
    )
    router.errors.register(telegram_unavailable, ExceptionTypeFilter(*UNAVAILABLE))
    router.errors.register(press_failed, F.update.callback_query)
    return router
