"""The web pages served for a real browser: a thread with its own event loop, an SQLite
database and the real application on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from storage.db import create_engine, session_factory
from storage.migrate import upgrade
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
    database, run on the site's own loop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self._runner: web.AppRunner | None = None

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self.loop)
        return future.result(timeout=30)

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        database_url = f"sqlite+aiosqlite:///{self.folder / 'pejling.db'}"
        self.engine = create_engine(database_url)
        await upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        self.municipality = Municipality(self.sessions)
        app = build_web_app(web_settings(database_url), self.sessions, self.engine)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.engine.dispose()
