"""A burst of requests on the web pages takes turns: at most ``REQUESTS_AT_ONCE`` hold a
database connection at a time, so a crowd opening their letters at once waits in line
instead of emptying the pool it shares with the bot (where a long wait is an error page
and presses in the chat wait too). Counted, not timed: the most connections in use."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.bot.test_concurrent_presses import Connections
from tests.web.helpers import Municipality, h1_of, read
from tests.web.test_pages import joined
from web.app import REQUESTS_AT_ONCE

Client = TestClient[web.Request, web.Application]
CROWD = 60


async def test_a_burst_of_pages_takes_turns_for_the_database(
    client: Client, municipality: Municipality, engine: AsyncEngine
) -> None:
    await joined(client, municipality)
    connections = Connections(engine)

    async def page() -> str:
        return await read(await client.get("/svar"))

    pages = await asyncio.gather(*(page() for _ in range(CROWD)))

    assert {h1_of(page) for page in pages} == {"Før du svarer"}  # every one served
    assert 2 <= connections.most <= REQUESTS_AT_ONCE
