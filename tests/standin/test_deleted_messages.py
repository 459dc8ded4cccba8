"""The person deletes a message, or Telegram stops letting the bot edit one: the
stand-in answers the bot's edits with Telegram's own errors."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from standin import BotAPIStandIn

ANNA = 1001
MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Ja", callback_data="y")]]
)


async def test_a_message_the_person_deleted_cannot_be_edited(
    standin: BotAPIStandIn, bot: Bot
) -> None:
    anna = standin.person(ANNA, started=True)
    sent = await bot.send_message(ANNA, "Spørgsmål 1", reply_markup=MARKUP)
    # A press made just before deleting still reaches the bot, as in Telegram.
    anna.press_data_nowait("y", message_id=sent.message_id)
    anna.delete_message(sent.message_id)
    assert anna.messages == []
    with pytest.raises(TelegramBadRequest) as edited:
        await bot.edit_message_text("Spørgsmål 2", chat_id=ANNA, message_id=sent.message_id)
    assert edited.value.message == "Bad Request: message to edit not found"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=ANNA, message_id=sent.message_id)
    with pytest.raises(KeyError):
        anna.delete_message(sent.message_id)  # gone already
    with pytest.raises(AssertionError, match="no bot message"):
        anna.press_data_nowait("y", message_id=sent.message_id)  # nothing left to press on


async def test_a_message_telegram_no_longer_lets_the_bot_edit(
    standin: BotAPIStandIn, bot: Bot
) -> None:
    anna = standin.person(ANNA, started=True)
    sent = await bot.send_message(ANNA, "Spørgsmål 1", reply_markup=MARKUP)
    standin.make_uneditable(ANNA, sent.message_id)
    with pytest.raises(TelegramBadRequest) as edited:
        await bot.edit_message_text("Spørgsmål 2", chat_id=ANNA, message_id=sent.message_id)
    assert edited.value.message == "Bad Request: message can't be edited"
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_reply_markup(chat_id=ANNA, message_id=sent.message_id)
    assert anna.last.text == "Spørgsmål 1" and anna.buttons() == ["Ja"]


async def test_deleting_over_http(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    sent = await bot.send_message(ANNA, "Hej")
    async with aiohttp.ClientSession() as http:
        url = f"{standin.url}/_standin/delete"
        body = {"chat_id": ANNA, "message_id": sent.message_id}
        async with http.post(url, json=body) as response:
            assert response.status == 200
        async with http.post(url, json=body) as response:
            assert response.status == 400
    assert standin.chat(ANNA) == []
