"""The web pages served for a real browser: a thread with its own event loop, the test's
own database (SQLite or PostgreSQL) and the real application on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from storage.db import create_engine, session_factory
from tests.web.helpers import Municipality, web_settings
from web.app import build_web_app

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip with the reason when Debian's chromium or Playwright is missing; under CI=true
    fail instead (.ci/run installs chromium)."""
    problem = None
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        problem = f"chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "Playwright for Python is not installed (pip install -e '.[dev]')"
    if problem is None:
        return
    message = f"browser tests need a browser: {problem}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class LiveSite:
    """The pages on http://127.0.0.1:<port>, and the municipality's tools on the same
    database, run on the site's own loop.

    ``database`` gives the URL of the test's migrated database (tests.databases'
    ``fresh_database``). It is entered on the site's loop, like everything that touches
    the database: while Playwright's sync API has a browser open, the main thread's
    event loop counts as running, so pytest-asyncio's fixtures cannot run there."""

    def __init__(self, database: AbstractAsyncContextManager[str]) -> None:
        self.database = database
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self._resources = AsyncExitStack()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self.loop)
        return future.result(timeout=30)

    def start(self) -> None:
        """Serve the pages; if that fails half way, what was made is undone."""
        self.thread.start()
        try:
            self.run(self._start())
        except BaseException:  # also pytest's skip, when PostgreSQL does not answer
            self.stop()
            raise

    async def _start(self) -> None:
        database_url = await self._resources.enter_async_context(self.database)
        self.engine = create_engine(database_url)
        self._resources.push_async_callback(self.engine.dispose)
        self.sessions = session_factory(self.engine)
        self.municipality = Municipality(self.sessions)
        app = build_web_app(web_settings(database_url), self.sessions, self.engine)
        runner = web.AppRunner(app)
        await runner.setup()
        self._resources.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop serving, close the database (dropping it on PostgreSQL), end the loop."""
        try:
            self.run(self._resources.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()
