"""Answering: the buttons under a question, the comment, the end."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AnswerCb, BackCb, BeginCb, FinishCb
from bot.routers.common import REFUSALS, nothing_open_text, show_after_press, show_new
from storage.models import TelegramAccount
from surveys import journey
from surveys.journey import CommentPrompt, Outcome, Refusal


async def press(
    callback: CallbackQuery,
    callback_data: AnswerCb | BackCb | BeginCb | FinishCb,
    session: AsyncSession,
    account: TelegramAccount | None,
) -> None:
    """Any button of a survey: act on the delivery it names, if it is the presser's."""
    if account is None:
        outcome = Outcome(refusal=Refusal.NOT_YOURS)
    elif isinstance(callback_data, AnswerCb):
        outcome = await journey.answer(
            session, account, callback_data.d, callback_data.i, callback_data.v
        )
    elif isinstance(callback_data, BackCb):
        outcome = await journey.go_back(session, account, callback_data.d, callback_data.i)
    elif isinstance(callback_data, FinishCb):
        outcome = await journey.finish(session, account, callback_data.d, callback_data.i)
    else:
        outcome = await journey.begin(session, account, callback_data.d)
    # Committed before the person sees the next question: what they see is stored.
    await session.commit()
    await show_after_press(callback, outcome)


async def text(
    message: Message, session: AsyncSession, account: TelegramAccount | None, bot: Bot
) -> None:
    """Free text: the comment at the end, or a hint to use the buttons."""
    if account is None:
        await message.answer(
            _("For at være med skal du bruge linket eller QR-koden fra dit brev. Skriv /hjaelp.")
        )
        return
    assert message.text is not None
    outcome = await journey.comment_text(session, account, message.text)
    await session.commit()
    if outcome.refusal == Refusal.NOTHING_OPEN:
        await message.answer(nothing_open_text())
    elif outcome.refusal == Refusal.TOO_LONG:
        assert isinstance(outcome.shown, CommentPrompt)
        await message.answer(
            _(
                "Din kommentar er for lang: {length} tegn. Der er plads til {limit} tegn. "
                "Prøv at gøre den kortere, og send den igen."
            ).format(length=len(message.text.strip()), limit=outcome.shown.max_length)
        )
    elif outcome.refusal == Refusal.STALE and outcome.shown is not None:
        await message.answer(_("Tryk på en af knapperne under spørgsmålet for at svare."))
        await show_new(bot, message.chat.id, outcome.shown)
    elif outcome.refusal is not None:
        await message.answer(str(REFUSALS[outcome.refusal]))
    elif outcome.shown is not None:
        await message.answer(_("Tak, din kommentar er gemt."))
        await show_new(bot, message.chat.id, outcome.shown)


def make_router() -> Router:
    """A fresh router: aiogram attaches a router to one dispatcher only."""
    router = Router(name="survey")
    for data in (AnswerCb, BackCb, BeginCb, FinishCb):
        router.callback_query.register(press, data.filter())
    router.message.register(text, F.text, ~F.text.startswith("/"))
    return router
