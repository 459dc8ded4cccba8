"""`pejling web` and `pejling run` serve the pages over real HTTP, and /healthz says how
the pages answer."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.health import health_app
from standin import BotAPIStandIn
from tests.bot.test_cli import PEJLING, free_port
from tests.harness import BOT_USERNAME, TOKEN
from tests.web.helpers import SESSION_SECRET, h1_of, web_settings
from web.server import local_address, probe, start_web

ATTEMPTS = 200  # times 0.1 s: a process start on a busy machine


async def page_when_up(url: str, process: asyncio.subprocess.Process) -> tuple[int, str]:
    """GET ``url`` once the process serves it (bounded; fails if the process died)."""
    async with aiohttp.ClientSession() as client:
        for _ in range(ATTEMPTS):
            if process.returncode is not None:
                break
            try:
                async with client.get(url) as response:
                    return response.status, await response.text()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    _, err = await process.communicate()
    raise AssertionError(f"nothing served at {url}: {err.decode()[-2000:]}")


@pytest.fixture
async def processes() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    running: list[asyncio.subprocess.Process] = []
    try:
        yield running
    finally:
        for process in running:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()[-3000:]
    return err.decode()


async def test_pejling_web_serves_the_pages_alone(
    engine: AsyncEngine, database_url: str, processes: list[asyncio.subprocess.Process]
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WEB_PORT": str(port),
        "WEB_SESSION_SECRET": SESSION_SECRET,
        "WEBHOOK_HOST": "127.0.0.1",
        "MUNICIPALITY": "Testrup Kommune",
    }
    process = await asyncio.create_subprocess_exec(
        PEJLING, "web", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    processes.append(process)
    status, page = await page_when_up(f"http://127.0.0.1:{port}/kode", process)
    assert status == 200 and h1_of(page) == "Skriv koden fra dit brev"
    assert "Testrup Kommune" in page
    status, health = await page_when_up(f"http://127.0.0.1:{port}/healthz", process)
    assert status == 200 and '"database": "ok"' in health
    await stop(process)


async def test_pejling_web_needs_its_session_secret(tmp_path: object) -> None:
    env = {**os.environ, "DATABASE_URL": "sqlite+aiosqlite:///:memory:"}
    env.pop("WEB_SESSION_SECRET", None)
    process = await asyncio.create_subprocess_exec(
        PEJLING, "web", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert err.decode().startswith("pejling: WEB_SESSION_SECRET is not set")


async def test_pejling_run_serves_the_pages_beside_the_bot(
    engine: AsyncEngine,
    settings: Settings,
    standin: BotAPIStandIn,
    processes: list[asyncio.subprocess.Process],
) -> None:
    web_port, health_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BOT_TOKEN": TOKEN,
        "BOT_USERNAME": BOT_USERNAME,
        "TELEGRAM_API_URL": standin.url,
        "WEBHOOK_HOST": "127.0.0.1",
        "WEB_PORT": str(web_port),
        "HEALTH_PORT": str(health_port),
        "WEB_SESSION_SECRET": SESSION_SECRET,
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        PEJLING, "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    processes.append(process)
    status, page = await page_when_up(f"http://127.0.0.1:{web_port}/kode", process)
    assert status == 200 and h1_of(page) == "Skriv koden fra dit brev"
    status, health = await page_when_up(f"http://127.0.0.1:{health_port}/healthz", process)
    assert status == 200 and '"web": "ok"' in health
    await stop(process)


async def test_healthz_says_when_the_pages_do_not_answer(
    database_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = web_settings(database_url).model_copy(
        update={"web_port": free_port(), "webhook_host": "127.0.0.1"}
    )
    runner = await start_web(settings, sessions, engine)
    address = local_address(settings)
    app = health_app(engine, lambda: True, lambda: probe(address))
    async with TestClient(TestServer(app)) as client:
        up = await client.get("/healthz")
        assert up.status == 200 and (await up.json())["web"] == "ok"
        await runner.cleanup()
        down = await client.get("/healthz")
        body = await down.json()
        assert down.status == 503 and str(body["web"]).startswith("unavailable")
    off = health_app(engine, lambda: True)
    async with TestClient(TestServer(off)) as client:
        assert (await (await client.get("/healthz")).json())["web"] == "off"
