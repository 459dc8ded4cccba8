"""Shared fixtures: a real database (SQLite, and PostgreSQL when reachable), a real bot
against the Bot API stand-in over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from standin import BotAPIStandIn
from storage.db import create_engine, session_factory
from tests.databases import DATABASES, POSTGRES, MigratedTemplates, fresh_database
from tests.harness import BOT_USERNAME, TOKEN, BotHarness


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    if templates.postgres_name is not None:
        asyncio.run(POSTGRES.drop(templates.postgres_name))


@pytest.fixture(params=DATABASES)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> AsyncIterator[str]:
    """A fresh database of the test's own: an SQLite file, or a PostgreSQL database. It is
    empty, unless the test uses ``engine``: then it is migrated to the newest revision."""
    migrated = "engine" in request.fixturenames
    made = fresh_database(request.param, tmp_path, migrated_templates, migrated=migrated)
    async with made as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database migrated to the newest revision (``database_url`` made it so)."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def standin() -> AsyncIterator[BotAPIStandIn]:
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as server:
        yield server


@pytest.fixture
def settings(database_url: str, standin: BotAPIStandIn) -> Settings:
    return Settings(
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=standin.url,
        bot_username=BOT_USERNAME,
        municipality="Testrup Kommune",
        contact="Ældreservice, tlf. 70 11 22 33",
        send_rate=1000,
        contact_hours="00-24",
    )


@pytest.fixture
async def harness(
    standin: BotAPIStandIn, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[BotHarness]:
    """The running bot; stopped cleanly at the end."""
    harness = BotHarness(standin=standin, sessions=sessions, settings=settings)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
