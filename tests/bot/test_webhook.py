"""Webhook mode: the secret header is checked, and an update Telegram retries is skipped."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import WEBHOOK_PATH, build_bot, build_dispatcher, build_webhook_app
from bot.config import Settings
from standin import BotAPIStandIn

SECRET = "s3cret-webhook-token-123"


@pytest.fixture
async def webhook(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    settings = settings.model_copy(update={"webhook_secret": SECRET})
    bot = build_bot(settings)
    app = build_webhook_app(settings, bot, build_dispatcher(settings, sessions))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url(WEBHOOK_PATH))
    finally:
        await server.close()
        await bot.session.close()


def update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Else", "language_code": "da"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Else"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            if text.startswith("/")
            else [],
        },
    }


async def test_wrong_or_missing_secret_is_refused_and_retries_are_skipped(
    webhook: str, standin: BotAPIStandIn
) -> None:
    standin.person(777, started=True)
    async with ClientSession() as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            response = await client.post(webhook, json=update(1, 777, "/hjaelp"), headers=headers)
            assert response.status == 401
        assert standin.calls_of("sendMessage") == []

        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        response = await client.post(webhook, json=update(2, 777, "/hjaelp"), headers=good)
        assert response.status == 200
        sent = [c for c in standin.calls_of("sendMessage") if c.ok]
        assert len(sent) == 1 and "Sådan virker det" in str(sent[0].params["text"])

        # Telegram did not get our answer in time and sends the same update again.
        response = await client.post(webhook, json=update(2, 777, "/hjaelp"), headers=good)
        assert response.status == 200
        assert len([c for c in standin.calls_of("sendMessage") if c.ok]) == 1
