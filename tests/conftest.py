"""Shared fixtures: a real database (SQLite, and PostgreSQL when reachable), a real bot
against the Bot API stand-in over HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
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


@dataclass
class MigratedTemplates:
    """A database of each kind migrated to the newest revision once per test run; a
    test's migrated database is a copy of one (a file copy, or PostgreSQL's CREATE
    DATABASE ... TEMPLATE), so the migrations run once a run rather than once a test.
    The migration tests take empty databases and run the migrations themselves."""

    directory: Path
    sqlite_file: Path | None = None
    postgres_name: str | None = None

    async def sqlite(self) -> Path:
        if self.sqlite_file is None:
            path = self.directory / "migrated.db"
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            try:
                await upgrade(engine)
                async with engine.connect() as connection:
                    # Everything into the main file, so a copy of that file is the whole.
                    await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await engine.dispose()
            self.sqlite_file = path
        return self.sqlite_file

    async def postgres(self) -> str:
        if self.postgres_name is None:
            name = await POSTGRES.create("pejling_template")
            engine = create_engine(POSTGRES.url_of(name))
            try:
                await upgrade(engine)
            finally:
                await engine.dispose()  # a template may have nobody connected to it
            self.postgres_name = name
        return self.postgres_name


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    if templates.postgres_name is not None:
        asyncio.run(POSTGRES.drop(templates.postgres_name))


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> AsyncIterator[str]:
    """A fresh database of the test's own: an SQLite file, or a PostgreSQL database. It is
    empty, unless the test uses ``engine``: then it is migrated to the newest revision."""
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "pejling.db"
        if migrated:
            shutil.copyfile(await migrated_templates.sqlite(), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    await _require_postgres()
    template = await migrated_templates.postgres() if migrated else None
    async with POSTGRES.throwaway("pejling_test", template=template) as url:
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
