"""Serving the pages: inside `pejling run`, or alone as `pejling web`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from functools import partial

import aiohttp
from aiohttp import web

from bot.config import Settings, SettingsError
from storage.db import AsyncEngine, Sessions, create_engine, session_factory
from storage.migrate import prepare
from web.app import build_web_app

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 3.0


async def start_web(settings: Settings, sessions: Sessions, engine: AsyncEngine) -> web.AppRunner:
    """Serve the pages on WEBHOOK_HOST:WEB_PORT; the caller cleans the runner up."""
    runner = web.AppRunner(build_web_app(settings, sessions, engine), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.web_port).start()
    _log_served(settings)
    return runner


def _log_served(settings: Settings) -> None:
    log.info("web pages served on %s:%s", settings.webhook_host, settings.web_port)


def local_address(settings: Settings) -> str:
    """Where this process can reach its own pages (for /healthz)."""
    host = settings.webhook_host
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.web_port}"


async def probe(base_url: str) -> str:
    """ "ok" when the pages answer their own /healthz over HTTP, else why not."""
    try:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.get(f"{base_url}/healthz") as response,
        ):
            return "ok" if response.status == 200 else f"unhealthy: HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError) as error:
        return f"unavailable: {type(error).__name__}"


def main(settings: Settings) -> None:
    """`pejling web`: the pages alone, until SIGTERM or SIGINT. aiohttp's run_app serves
    them, stops on either signal and cleans the application up (the engine last)."""
    settings.require_web_secret()
    if not settings.web_port:
        raise SettingsError("WEB_PORT: must not be 0 for `pejling web`")
    engine = create_engine(settings.database_url)
    app = build_web_app(settings, session_factory(engine), engine)
    app.cleanup_ctx.append(partial(_database, engine))
    web.run_app(
        app,
        host=settings.webhook_host,
        port=settings.web_port,
        access_log=None,
        print=lambda _banner: _log_served(settings),
    )


async def _database(engine: AsyncEngine, app: web.Application) -> AsyncIterator[None]:
    """The schema made ready before the pages are served; the engine disposed of after."""
    try:
        await prepare(engine)
        yield
    finally:
        await engine.dispose()
