"""Engine and session set-up; the one place where SQLite and PostgreSQL differ."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine as AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Connections the pool keeps open, and as many again opened at a peak (SQLAlchemy's
#: default is 5 + 10): for the updates the bot handles at once (``bot.app.UPDATES_AT_ONCE``)
#: and the pages' requests (``web.app.REQUESTS_AT_ONCE``), which hold one only while they
#: read and write, and the sender and the scheduler, so that a burst does not open and
#: close connections all the time.
POOL_SIZE = 10
HEALTH_TIMEOUT = 3.0  # seconds a health check waits for the database

Sessions = async_sessionmaker[AsyncSession]
"""What the edges hold to open a session: they name it without importing SQLAlchemy."""


def is_sqlite(url: str) -> bool:
    """True when the URL names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout for several writers."""
    if make_url(url).database not in (None, "", ":memory:"):
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_SIZE)
    if is_sqlite(url):
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        return engine
    # No pool_pre_ping: it costs a round trip before every transaction, and a connection
    # that died meanwhile is found out by the first statement anyway (the bot's middleware
    # runs that statement again on a fresh connection; elsewhere the caller retries).
    # No JIT: the indicator report is the only query costly enough to trigger it, and
    # compiling it took longer (1-7 s, EXPLAIN ANALYZE on a million answers) than it
    # saved; PostgreSQL's docs say as much of short analytical queries.
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("server_settings", {}).setdefault("jit", "off")
    return create_async_engine(url, connect_args=connect_args, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def database_state(engine: AsyncEngine, timeout: float = HEALTH_TIMEOUT) -> str:
    """ "ok" when the database answers a trivial query within ``timeout`` seconds, else
    "unavailable: <the error's type>" (for /healthz; any failure counts)."""
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "not healthy"; the reason is reported
        return f"unavailable: {type(error).__name__}"
    return "ok"
