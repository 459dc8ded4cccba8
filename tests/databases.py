"""A test's own database, SQLite or PostgreSQL: made from a template migrated once a run.

The ``database_url`` fixture (tests/conftest.py) makes one on the test's event loop; the
browser tests' live site (tests/web/live.py) makes one the same way on the loop of its
own thread, because Playwright's sync API keeps the main thread's loop busy while the
browser is open.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.db import create_engine
from storage.migrate import upgrade
from tests.postgres import TEST_POSTGRES_URL, PostgresServer

POSTGRES = PostgresServer(TEST_POSTGRES_URL)
DATABASES = ("sqlite", "postgres")


async def require_postgres() -> None:
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


@asynccontextmanager
async def fresh_database(
    kind: str, folder: Path, templates: MigratedTemplates, *, migrated: bool
) -> AsyncIterator[str]:
    """The URL of a new database of the test's own: an SQLite file in ``folder``, or a
    PostgreSQL database dropped afterwards; a copy of the migrated template when
    ``migrated``, else empty."""
    if kind == "sqlite":
        path = folder / "pejling.db"
        if migrated:
            shutil.copyfile(await templates.sqlite(), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    await require_postgres()
    template = await templates.postgres() if migrated else None
    async with POSTGRES.throwaway("pejling_test", template=template) as url:
        yield url
