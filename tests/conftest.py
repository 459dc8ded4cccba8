"""Shared fixtures: a real database (SQLite, and PostgreSQL when reachable), a real bot
against the Bot API stand-in over HTTP."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from standin import BotAPIStandIn
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from tests.harness import BOT_USERNAME, TOKEN, BotHarness

POSTGRES_URL = os.environ.get(
    "PEJLING_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
_postgres_state: dict[str, str | None] = {}


async def _postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per run)."""
    if "problem" not in _postgres_state:
        url = make_url(POSTGRES_URL)
        try:
            connection = await asyncio.wait_for(
                asyncpg.connect(
                    host=url.host,
                    port=url.port or 5432,
                    user=url.username,
                    password=url.password,
                    database=url.database,
                ),
                timeout=5,
            )
            await connection.close()
            _postgres_state["problem"] = None
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            _postgres_state["problem"] = f"{type(error).__name__}: {error}"
    return _postgres_state["problem"]


async def _require_postgres() -> None:
    problem = await _postgres_problem()
    if problem is None:
        return
    message = (
        f"PostgreSQL is not reachable at {POSTGRES_URL} ({problem}); set "
        "PEJLING_TEST_POSTGRES_URL or start PostgreSQL to run the PostgreSQL half of the tests"
    )
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
    name = f"pejling_test_{uuid.uuid4().hex[:12]}"
    url = make_url(POSTGRES_URL)
    admin = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


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
