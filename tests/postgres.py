"""PostgreSQL for the tests and the benchmarks: whether a server answers, and throwaway
databases made on it and dropped afterwards.

It lives in tests/ (bench/ imports it from there) because it is test equipment: it drops
databases by force and reads the test's settings, so it has no place in the shipped
packages. It needs no pytest: the tests skip or fail with ``unreachable_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy.engine import make_url

TEST_POSTGRES_URL = os.environ.get(
    "PEJLING_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass
class PostgresServer:
    """The server behind ``url``, a database on it whose user may create databases."""

    url: str
    _problem: list[str | None] = field(default_factory=list, repr=False)

    async def connect(self) -> asyncpg.Connection:
        """A connection to the database of ``url`` (``postgres`` when it names none)."""
        url = make_url(self.url)
        return await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database or "postgres",
        )

    async def problem(self) -> str | None:
        """None when the server answers, else why not (asked once, then remembered)."""
        if not self._problem:
            try:
                connection = await asyncio.wait_for(self.connect(), timeout=5)
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                self._problem.append(f"{type(error).__name__}: {error}")
            else:
                await connection.close()
                self._problem.append(None)
        return self._problem[0]

    def unreachable_message(self, problem: str) -> str:
        """What a test run says when the server does not answer, and how to change that."""
        return (
            f"PostgreSQL is not reachable at {self.url} ({problem}); set "
            "PEJLING_TEST_POSTGRES_URL or start PostgreSQL to run the PostgreSQL half of "
            "the tests"
        )

    def url_of(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    async def create(self, prefix: str, *, template: str | None = None) -> str:
        """Make a new, empty database (or a copy of ``template``); returns its name."""
        admin = await self.connect()
        try:
            return await _create(admin, prefix, template)
        finally:
            await admin.close()

    async def drop(self, name: str) -> None:
        """Drop the database ``name``, even while something is still connected to it."""
        admin = await self.connect()
        try:
            await _drop(admin, name)
        finally:
            await admin.close()

    @contextlib.asynccontextmanager
    async def throwaway(self, prefix: str, *, template: str | None = None) -> AsyncIterator[str]:
        """The URL of a database of its own (empty, or a copy of ``template``), dropped
        afterwards; one connection to the server makes and drops it."""
        admin = await self.connect()
        try:
            name = await _create(admin, prefix, template)
            try:
                yield self.url_of(name)
            finally:
                await _drop(admin, name)
        finally:
            await admin.close()


async def _create(admin: asyncpg.Connection, prefix: str, template: str | None) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template is not None else ""
    await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    return name


async def _drop(admin: asyncpg.Connection, name: str) -> None:
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
