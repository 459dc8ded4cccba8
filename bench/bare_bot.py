"""The reference bot: bare aiogram, no database, the same Bot API calls as Pejling.

``python -m bench.bare_bot --first-user 100000 --people 200`` sends each person an
invitation like Pejling's, then long-polls. Every press edits the pressed message into
the next screen (the standard survey's seven questions for a relative in a care home,
the comment prompt, the thanks) and then answers the callback query: editMessageText +
answerCallbackQuery, as Pejling does, with nothing stored anywhere. The screen to show
travels in the button data, so the bot keeps no state at all.

Without ``--people`` it just polls: the idle-memory reference.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

HYP5 = ["Altid", "Ofte", "Nogle gange", "Sjældent", "Aldrig"]
TILF5 = [
    "😊 Meget tilfreds",
    "🙂 Tilfreds",
    "😐 Hverken eller",
    "🙁 Utilfreds",
    "😞 Meget utilfreds",
]
QUESTIONS = [
    ("Har Borger nogen at tale med og være sammen med i hverdagen?", HYP5),
    ("Hvor tilfreds er du med den mad, Borger får?", TILF5),
    ("Får Borger hjælp til at spise og drikke, når der er brug for det?", HYP5),
    ("Ved personalet, hvad der er aftalt om Borgers hjælp, også nye medarbejdere?", HYP5),
    ("Oplever du, at Borger bliver behandlet med værdighed og respekt?", HYP5),
    ("Føler du dig velkommen, når du besøger Borger?", HYP5),
    ("Hvor tilfreds er du samlet set med den hjælp og støtte, Borger får?", TILF5),
]
INVITATION = (
    "Der er et nyt spørgeskema til dig fra Testrup Kommune. "
    "Det tager 2-3 minutter. Du kan svare frem til 14. december 2026."
)
COMMENT = (
    "<b>Er der andet, du vil fortælle os?</b>\n\n"
    "Skriv ikke navne, og skriv ikke om nogens helbred eller sygdom.\n\n"
    "Skriv din kommentar her i chatten (højst 1000 tegn), eller tryk «Nej tak, afslut»."
)
THANKS = (
    "Tak for dine svar! 🌷\n\n"
    "Dine svar hjælper kommunen med at gøre hjælpen og plejen bedre. "
    "Du hører fra os, næste gang der er et spørgeskema."
)

Screen = tuple[str, InlineKeyboardMarkup | None]


def _one_per_row(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    # As Pejling builds its survey keyboards (bot/render.py one_per_row).
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data)] for text, data in buttons
        ]
    )


def screen(chat_id: int, number: int) -> Screen:
    """Screen ``number``: 0 the invitation, 1-7 the questions, 8 the comment, 9 thanks."""
    if number == 0:
        return INVITATION, _one_per_row([("Start spørgeskemaet", f"s:{chat_id}:0:g")])
    if number <= len(QUESTIONS):
        text, options = QUESTIONS[number - 1]
        buttons = [
            (label, f"s:{chat_id}:{number}:{position}")
            for position, label in enumerate(options, start=1)
        ]
        buttons += [
            ("Ved ikke", f"s:{chat_id}:{number}:x"),
            ("Spring over", f"s:{chat_id}:{number}:s"),
        ]
        if number > 1:
            buttons.append(("⬅️ Tilbage", f"b:{chat_id}:{number}"))
        header = f"<i>Spørgsmål {number} af {len(QUESTIONS)}</i>"
        return f"{header}\n\n<b>{text}</b>", _one_per_row(buttons)
    if number == len(QUESTIONS) + 1:
        return COMMENT, _one_per_row(
            [("Nej tak, afslut", f"s:{chat_id}:{number}:f"), ("⬅️ Tilbage", f"b:{chat_id}:{number}")]
        )
    return THANKS, None


async def press(callback: CallbackQuery) -> None:
    """Any button: show the next screen in place, then answer the press."""
    assert callback.data is not None
    _, chat, number, _ = callback.data.split(":")
    text, markup = screen(int(chat), int(number) + 1)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)
    await callback.answer()


def build_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.callback_query.register(press, F.data.startswith("s:"))
    return dispatcher


async def serve(api_url: str, token: str, first_user: int, people: int) -> None:
    bot = Bot(
        token=token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    try:
        for chat_id in range(first_user, first_user + people):
            text, markup = screen(chat_id, 0)
            await bot.send_message(chat_id, text, reply_markup=markup)
        await build_dispatcher().start_polling(bot, handle_signals=True, close_bot_session=False)
    finally:
        await bot.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_bot", description=__doc__)
    parser.add_argument("--first-user", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))
    asyncio.run(
        serve(os.environ["TELEGRAM_API_URL"], os.environ["BOT_TOKEN"], args.first_user, args.people)
    )


if __name__ == "__main__":
    main()
