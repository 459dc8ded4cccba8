"""Everything nobody else took: a short hint, never an error or silence."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.routers.common import show_new
from storage.models import TelegramAccount
from surveys import journey
from surveys.journey import CommentPrompt


async def unknown_command(message: Message) -> None:
    await message.answer(_("Den kommando kender jeg ikke. Skriv /hjaelp for at se, hvad du kan."))


async def not_text(
    message: Message, session: AsyncSession, account: TelegramAccount | None, bot: Bot
) -> None:
    """A sticker, photo, voice message or the like."""
    step = await journey.next_step(session, account) if account is not None else None
    await session.commit()
    if step is None:
        await message.answer(_("Jeg kan kun læse tekst og knaptryk. Skriv /hjaelp for hjælp."))
    elif isinstance(step, CommentPrompt):
        await message.answer(_("Skriv din kommentar som tekst, eller tryk «Nej tak, afslut»."))
    else:
        await message.answer(_("Tryk på en af knapperne under spørgsmålet for at svare."))
        await show_new(bot, message.chat.id, step)


async def edited(message: Message) -> None:
    await message.answer(_("Jeg kan ikke se rettelser. Send en ny besked i stedet."))


async def unknown_button(callback: CallbackQuery) -> None:
    await callback.answer(_("Denne knap virker ikke længere."), show_alert=True)


def make_router() -> Router:
    """A fresh router: aiogram attaches a router to one dispatcher only."""
    router = Router(name="fallback")
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(not_text)
    router.edited_message.register(edited)
    router.callback_query.register(unknown_button)
    return router
