"""The Bot API stand-in, exercised by a real aiogram Bot + Dispatcher over loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
    Update,
)

from standin import BotAPIStandIn, parse_formatted

ANNA = 1001


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons from (text, data) pairs."""
    row = [InlineKeyboardButton(text=text, callback_data=data) for text, data in buttons]
    return InlineKeyboardMarkup(inline_keyboard=[row])


def build_router() -> Router:
    """A tiny bot: /menu shows a keyboard, a press edits it, text is echoed."""
    router = Router()

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        await message.answer("Vælg:", reply_markup=keyboard(("Ja", "ans:yes"), ("Nej", "ans:no")))

    @router.callback_query(F.data.startswith("ans:"))
    async def answered(query: CallbackQuery) -> None:
        assert query.data is not None and isinstance(query.message, Message)
        choice = query.data.removeprefix("ans:")
        await query.message.edit_text(f"Du svarede: {choice}")
        await query.answer("Tak!", show_alert=choice == "no")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Ekko: {message.text}")

    @router.message()
    async def not_text(message: Message) -> None:
        await message.answer("Kun tekst, tak.")

    return router


@dataclass
class Running:
    """A bot polling the stand-in, and the update_ids its handlers saw."""

    bot: Bot
    dispatcher: Dispatcher
    update_ids: list[int]


@pytest.fixture
async def running(standin: BotAPIStandIn, bot: Bot) -> AsyncIterator[Running]:
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    update_ids: list[int] = []

    async def record(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        update_ids.append(event.update_id)
        return await handler(event, data)

    dispatcher.update.outer_middleware.register(record)

    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    await standin.wait_until_polling()
    yield Running(bot=bot, dispatcher=dispatcher, update_ids=update_ids)
    await dispatcher.stop_polling()
    await polling
    await bot.session.close()


async def test_send_gets_reply(standin: BotAPIStandIn, running: Running) -> None:
    anna = standin.person(ANNA, "Anna")
    replies = await anna.send("hej")
    assert [m.text for m in replies] == ["Ekko: hej"]
    assert anna.last.text == "Ekko: hej"
    history = standin.chat(ANNA)
    assert [(m.message_id, m.from_bot, m.text) for m in history] == [
        (1, False, "hej"),
        (2, True, "Ekko: hej"),
    ]
    sent = standin.calls_of("sendMessage")[0]
    assert sent.params["chat_id"] == ANNA and sent.params["text"] == "Ekko: hej"

    assert [m.text for m in await anna.send_sticker()] == ["Kun tekst, tak."]
    assert [m.text for m in await anna.send_photo()] == ["Kun tekst, tak."]


async def test_press_edits_and_answers(standin: BotAPIStandIn, running: Running) -> None:
    anna = standin.person(ANNA, "Anna")
    await anna.send("/menu")
    assert standin.chat(ANNA)[0].text == "/menu"
    assert anna.buttons() == ["Ja", "Nej"]
    assert anna.button_rows() == [["Ja", "Nej"]]

    answer = await anna.press("Ja")
    assert (answer.text, answer.show_alert) == ("Tak!", False)
    menu = anna.last
    assert menu.text == "Du svarede: yes"
    assert menu.edited_count == 1
    assert menu.reply_markup is None  # editMessageText without markup drops the keyboard
    assert menu.history[0].text == "Vælg:"
    assert anna.buttons() == []

    with pytest.raises(AssertionError, match="no inline button 'Ja'"):
        await anna.press("Ja")

    await anna.send("/menu")
    answer = await anna.press("Nej")
    assert answer.show_alert is True
    # A forged press on the already edited message still reaches the handler.
    edited = anna.last
    answer = await anna.press_data("ans:forged", message_id=edited.message_id)
    assert anna.last.text == "Du svarede: forged"


async def test_message_too_long(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    await bot.send_message(ANNA, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANNA, "x" * 4097)
    # The limit applies to the visible text, after HTML parsing.
    await bot.send_message(ANNA, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")


async def test_callback_data_limit(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    await bot.send_message(ANNA, "ok", reply_markup=keyboard(("A", "a" * 64)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        # 33 × "ø" is 66 bytes in UTF-8, though only 33 characters.
        await bot.send_message(ANNA, "too long", reply_markup=keyboard(("A", "ø" * 33)))
    assert [m.text for m in standin.chat(ANNA)] == ["ok"]


async def test_not_modified_and_not_found(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    markup = keyboard(("Ja", "yes"))
    sent = await bot.send_message(ANNA, "Hej", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Hej", chat_id=ANNA, message_id=sent.message_id, reply_markup=markup
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ANNA, message_id=sent.message_id, reply_markup=markup
        )
    # Same text without the markup removes the keyboard: that is a modification.
    await bot.edit_message_text("Hej", chat_id=ANNA, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("Hej", chat_id=ANNA, message_id=999)
    await bot.delete_message(ANNA, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ANNA, sent.message_id)
    assert standin.chat(ANNA) == []
    assert standin.chat(ANNA, include_deleted=True)[0].deleted


async def test_blocked_and_unknown_chat(standin: BotAPIStandIn, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(ANNA, "Hej")
    anna = standin.person(ANNA, started=True)
    anna.block()
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANNA, "Hej")
    anna.unblock()
    await bot.send_message(ANNA, "Hej igen")
    assert anna.last.text == "Hej igen"
    assert [call.status for call in standin.calls_of("sendMessage")] == [400, 403, 200]


async def test_fail_next_retry_after(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    standin.fail_next("sendMessage", status=429, retry_after=7, chat_id=ANNA)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ANNA, "Hej")
    assert caught.value.retry_after == 7
    await bot.send_message(ANNA, "Hej")
    assert [m.text for m in standin.chat(ANNA)] == ["Hej"]

    standin.fail_fraction("sendMessage", 1.0, seed=1)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(ANNA, "Hej")
    standin.fail_fraction("sendMessage", 0)

    standin.limits(per_chat_per_second=1)
    await bot.send_message(ANNA, "en")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ANNA, "to")
    assert caught.value.retry_after == 1


async def test_replay_delivers_same_update_twice(standin: BotAPIStandIn, running: Running) -> None:
    anna = standin.person(ANNA, "Anna")
    await anna.send("første")
    first_id = running.update_ids[-1]

    standin.replay(first_id)
    again = await anna.receive()
    assert [m.text for m in again] == ["Ekko: første"]
    assert running.update_ids.count(first_id) == 2

    # A replayed button press, as other tests do it.
    await anna.send("/menu")
    callback_id = anna.press_nowait("Ja")
    await anna.wait_answer(callback_id)
    standin.replay(standin.update_id_of(callback_id))
    await standin.wait_for(lambda: running.update_ids.count(running.update_ids[-1]) == 2)
    # The tiny router is not idempotent: its second edit is refused as "not modified".
    since = len(standin.calls) - 1
    refused = await standin.wait_for_call("editMessageText", lambda c: not c.ok, since=since)
    assert refused.description is not None and "not modified" in refused.description
    with pytest.raises(KeyError):
        standin.update_id_of("no-such-id")

    # Acknowledgement still works after the replay: the next message arrives once.
    assert [m.text for m in await anna.send("anden")] == ["Ekko: anden"]
    assert running.update_ids.count(first_id) == 2
    assert len(running.update_ids) == 6


async def test_wrong_token_and_unknown_method(standin: BotAPIStandIn) -> None:
    intruder = Bot("654321:WRONG-TOKEN", session=AiohttpSession(api=standin.api_server))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()

    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{standin.url}/bot{standin.token}/noSuchMethod") as response,
    ):
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found",
        }


async def test_commands_per_language(standin: BotAPIStandIn, bot: Bot) -> None:
    await bot.set_my_commands(
        [BotCommand(command="start", description="Begynd")],
        language_code="da",
    )
    await bot.set_my_commands([BotCommand(command="start", description="Begin")])
    await bot.set_my_commands(
        [BotCommand(command="stop", description="Stop")],
        scope=BotCommandScopeAllPrivateChats(),
    )
    assert standin.commands("da") == [{"command": "start", "description": "Begynd"}]
    assert standin.commands() == [{"command": "start", "description": "Begin"}]
    assert standin.commands("en") == []
    assert standin.commands(scope="all_private_chats") == [
        {"command": "stop", "description": "Stop"},
    ]
    fetched = await bot.get_my_commands(language_code="da")
    assert [c.description for c in fetched] == ["Begynd"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])


async def test_send_document_is_stored(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    content = b"%PDF-1.4 rapport"
    sent = await bot.send_document(
        ANNA,
        BufferedInputFile(content, filename="rapport.pdf"),
        caption="Din rapport",
    )
    assert sent.document is not None and sent.document.file_name == "rapport.pdf"
    [stored] = standin.documents(ANNA)
    assert stored.document is not None
    assert (stored.document.filename, stored.document.data) == ("rapport.pdf", content)
    assert stored.document.mime_type == "application/pdf"
    assert stored.caption == "Din rapport"
    # Bots re-send by file_id; the stand-in knows the file.
    await bot.send_document(ANNA, sent.document.file_id)
    assert standin.documents(ANNA)[1].document == stored.document


async def test_html_is_parsed_like_telegram(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    sent = await bot.send_message(ANNA, "<b>Hej</b> &amp; velkommen ", parse_mode="HTML")
    assert sent.text == "Hej & velkommen"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ANNA, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ANNA, "<blink>x</blink>", parse_mode="HTML")
    assert parse_formatted("<i>æøå</i> 👍 <b>x</b>", "HTML")[1][1] == {
        "type": "bold",
        "offset": 7,  # "æøå " is 4 units, "👍" two more, then a space
        "length": 1,
    }


async def test_reply_keyboard(standin: BotAPIStandIn, bot: Bot) -> None:
    anna = standin.person(ANNA, started=True)
    big_buttons = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Ja"), KeyboardButton(text="Nej")]],
    )
    await bot.send_message(ANNA, "Er du tilfreds?", reply_markup=big_buttons)
    assert anna.reply_keyboard() == [["Ja", "Nej"]]
    assert anna.buttons() == []  # not an inline keyboard
    await bot.send_message(ANNA, "Tak", reply_markup=ReplyKeyboardRemove())
    assert anna.reply_keyboard() == []


async def test_wait_for_timeout_reports_calls(standin: BotAPIStandIn, bot: Bot) -> None:
    await bot.get_me()
    with pytest.raises(AssertionError, match=r"never(.|\n)*getMe"):
        await standin.wait_for(lambda: False, timeout=0.05, message="never")
