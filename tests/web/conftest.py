"""The web pages served for real (aiohttp's test server over loopback HTTP) on the
shared database fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.web.helpers import Municipality, web_settings
from web.app import build_web_app


@pytest.fixture
def municipality(sessions: async_sessionmaker[AsyncSession]) -> Municipality:
    return Municipality(sessions)


@pytest.fixture
async def client(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A browser-like client (it keeps cookies) of the pages, served over HTTP."""
    app = build_web_app(web_settings(database_url), sessions, engine)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
