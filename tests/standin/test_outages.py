"""The stand-in's outages and a revoked token, as a real aiogram Bot meets them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from standin import BotAPIStandIn
from standin.faults import DISCONNECTED, Outage

ANNA = 1001


@pytest.fixture
async def impatient_bot(standin: BotAPIStandIn) -> AsyncIterator[Bot]:
    """A bot that gives up on a request after half a second (aiogram's default: a minute)."""
    bot = Bot(standin.token, session=AiohttpSession(api=standin.api_server, timeout=0.5))
    yield bot
    await bot.session.close()


async def test_an_outage_meets_every_method_until_it_ends(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    standin.outage("disconnect")
    with pytest.raises(TelegramNetworkError, match="ServerDisconnectedError"):
        await bot.send_message(ANNA, "Hej")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()
    standin.outage("bad_gateway")
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(ANNA, "Hej")
    standin.outage("gateway_page")
    with pytest.raises(ClientDecodeError):  # an HTML page, not Telegram's JSON
        await bot.send_message(ANNA, "Hej")
    assert standin.chat(ANNA) == []  # nothing got through

    standin.end_outage()
    await bot.send_message(ANNA, "Hej igen")
    assert [m.text for m in standin.chat(ANNA)] == ["Hej igen"]
    assert [call.status for call in standin.calls_of("sendMessage")] == [
        DISCONNECTED,
        502,
        502,
        200,
    ]
    with pytest.raises(ValueError, match="unknown outage"):
        standin.outage("flood")  # type: ignore[arg-type]


async def test_a_revoked_token_gets_401_for_everything(standin: BotAPIStandIn, bot: Bot) -> None:
    standin.person(ANNA, started=True)
    await bot.send_message(ANNA, "Hej")
    new_token = standin.revoke_token()
    assert new_token != bot.token
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await bot.send_message(ANNA, "Hej")
    with pytest.raises(TelegramUnauthorizedError):
        await bot.get_me()
    assert [m.text for m in standin.chat(ANNA)] == ["Hej"]


async def test_a_hang_holds_a_request_unanswered_until_the_client_gives_up(
    standin: BotAPIStandIn, impatient_bot: Bot
) -> None:
    standin.person(ANNA, started=True)
    standin.outage("hang")
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await impatient_bot.send_message(ANNA, "Hej")
    [held] = standin.calls_of("sendMessage")
    assert held.status == DISCONNECTED and "held" in (held.description or "")
    assert standin.chat(ANNA) == []  # nothing of it happened, not even late

    standin.end_outage()
    await impatient_bot.send_message(ANNA, "Hej igen")
    assert [m.text for m in standin.chat(ANNA)] == ["Hej igen"]


async def test_the_end_of_a_hang_closes_the_requests_it_holds(
    standin: BotAPIStandIn, bot: Bot
) -> None:
    standin.person(ANNA, started=True)
    standin.outage("hang")
    sending = asyncio.create_task(bot.send_message(ANNA, "Hej"))  # a minute's patience
    await standin.wait_for_call("sendMessage")
    standin.end_outage()
    with pytest.raises(TelegramNetworkError, match="ServerDisconnectedError"):
        await sending
    assert standin.chat(ANNA) == []
    await bot.send_message(ANNA, "Hej igen")
    assert [m.text for m in standin.chat(ANNA)] == ["Hej igen"]


@pytest.mark.parametrize("kind", ["disconnect", "hang"])
async def test_an_outage_can_begin_with_a_given_call(
    standin: BotAPIStandIn, impatient_bot: Bot, kind: Outage
) -> None:
    standin.person(ANNA, started=True)
    standin.person(ANNA + 1, started=True)
    standin.outage(kind, at="editMessageText", chat_id=ANNA)
    first = await impatient_bot.send_message(ANNA, "Spørgsmål 1")
    elsewhere = await impatient_bot.send_message(ANNA + 1, "Spørgsmål 1")
    # Another chat's edit does not begin it.
    await impatient_bot.edit_message_text(
        "Spørgsmål 2", chat_id=ANNA + 1, message_id=elsewhere.message_id
    )
    with pytest.raises(TelegramNetworkError):
        await impatient_bot.edit_message_text(
            "Spørgsmål 2", chat_id=ANNA, message_id=first.message_id
        )
    with pytest.raises(TelegramNetworkError):  # from then on, every call meets it
        await impatient_bot.send_message(ANNA, "Hej")
    assert [m.text for m in standin.chat(ANNA)] == ["Spørgsmål 1"]

    standin.end_outage()
    await impatient_bot.edit_message_text("Spørgsmål 2", chat_id=ANNA, message_id=first.message_id)
    assert [m.text for m in standin.chat(ANNA)] == ["Spørgsmål 2"]
