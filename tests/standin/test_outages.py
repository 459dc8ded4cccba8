"""The stand-in's outages and a revoked token, as a real aiogram Bot meets them."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from standin import BotAPIStandIn
from standin.faults import DISCONNECTED

ANNA = 1001


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
