"""Shared fixtures: a real database (SQLite, and PostgreSQL when reachable), a real bot
against the Bot API stand-in over HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from standin import BotAPIStandIn
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from tests.harness import BOT_USERNAME, TOKEN, BotHarness
from tests.postgres import TEST_POSTGRES_URL, PostgresServer

POSTGRES = PostgresServer(TEST_POSTGRES_URL)


async def _require_postgres() -> None:
    """Skip the test when PostgreSQL does not answer; under CI=true, fail it instead."""
    problem = await POSTGRES.problem()
    if problem is None:
        return
    message = POSTGRES.unreachable_message(problem)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: an SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'pejling.db'}"
        return
    await _require_postgres()
    async with POSTGRES.throwaway("pejling_test") as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database."""
    engine = create_engine(database_url)
    await upgrade(engine)
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
