"""Showing surveys' results in the chat; shared by the routers."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.render import Screen, step_screen, thanks_screen
from surveys.journey import Finished, Outcome, Refusal, Step

log = logging.getLogger(__name__)


def locale() -> str:
    """The language of the update being handled."""
    return get_i18n().current_locale


async def send(bot: Bot, chat_id: int, screen: Screen) -> Message:
    return await bot.send_message(chat_id, screen.text, reply_markup=screen.markup)


# What Telegram answers when the pressed message cannot take the next screen: the person
# deleted it (or it is gone for another reason), or Telegram no longer lets it be edited.
# The screen then comes as a new message. Telegram's own texts, as the stand-in has them.
MESSAGE_GONE = ("message to edit not found", "MESSAGE_ID_INVALID")
CANNOT_EDIT = ("message can't be edited", "there is no text in the message to edit")
NOT_MODIFIED = "message is not modified"


async def edit(callback: CallbackQuery, screen: Screen) -> None:
    """Turn the pressed message into the next screen, so no messages pile up; where that
    message cannot be edited any more, show the screen as a new message instead."""
    message = callback.message
    assert callback.bot is not None
    if message is None or isinstance(message, InaccessibleMessage):
        await send(callback.bot, callback.from_user.id, screen)
        return
    try:
        await message.edit_text(screen.text, reply_markup=screen.markup)
    except TelegramBadRequest as error:
        if NOT_MODIFIED in error.message:
            # A redelivered press, or a second tap, asks for what is already shown.
            log.info("message %s already shows this screen", message.message_id)
            return
        if not any(reason in error.message for reason in (*MESSAGE_GONE, *CANNOT_EDIT)):
            raise
        log.info(
            "message %s cannot be edited (Telegram: %s); the screen is sent as a new message",
            message.message_id,
            error.message,
        )
        await send(callback.bot, callback.from_user.id, screen)


async def remove_buttons(callback: CallbackQuery) -> None:
    message = callback.message
    if isinstance(message, Message) and message.reply_markup is not None:
        try:
            await message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest as error:
            log.info("could not remove buttons: %s", error.message)


REFUSALS = {
    Refusal.NOT_YOURS: __("Denne knap hører ikke til dit spørgeskema."),
    Refusal.CLOSED: __("Dette spørgeskema er lukket. Tak for din interesse!"),
    Refusal.FINISHED: __("Du har allerede svaret på dette spørgeskema. Tak!"),
    Refusal.STALE: __("Det spørgsmål er allerede besvaret. Her er, hvor du er nået til."),
    Refusal.INVALID: __("Det svar kender jeg ikke. Brug knapperne under spørgsmålet."),
}


async def show_after_press(callback: CallbackQuery, outcome: Outcome) -> None:
    """Show what a button press led to, or tell politely why nothing changed."""
    assert callback.bot is not None
    # The press is answered last, once everything it changes is shown.
    if outcome.refusal is not None:
        if outcome.refusal in (Refusal.CLOSED, Refusal.FINISHED):
            await remove_buttons(callback)
        if outcome.refusal == Refusal.STALE and outcome.shown is not None:
            await remove_buttons(callback)
            await show_new(callback.bot, callback.from_user.id, outcome.shown)
        await callback.answer(str(REFUSALS[outcome.refusal]), show_alert=True)
        return
    shown = outcome.shown
    if isinstance(shown, Finished):
        await edit(callback, thanks_screen())
        if shown.next_step is not None:
            await show_new(callback.bot, callback.from_user.id, shown.next_step)
    elif shown is not None:
        await edit(callback, step_screen(shown, locale()))
    await callback.answer()


async def show_new(bot: Bot, chat_id: int, shown: Step | Finished) -> None:
    """Show a step (or the thanks) as a new message."""
    if isinstance(shown, Finished):
        await send(bot, chat_id, thanks_screen())
        if shown.next_step is not None:
            await send(bot, chat_id, step_screen(shown.next_step, locale()))
        return
    await send(bot, chat_id, step_screen(shown, locale()))


def nothing_open_text() -> str:
    return _(
        "Der er ikke noget spørgeskema til dig lige nu. Du hører fra os, når der kommer et nyt."
    )
