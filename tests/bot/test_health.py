"""/healthz says which part is unwell."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.health import health_app
from storage.db import create_engine


async def get(app_engine: AsyncEngine, alive: bool) -> tuple[int, dict[str, object]]:
    async with TestClient(TestServer(health_app(app_engine, lambda: alive))) as client:
        response = await client.get("/healthz")
        return response.status, await response.json()


async def test_healthy_when_the_database_answers_and_the_scheduler_ticks(
    engine: AsyncEngine,
) -> None:
    status, body = await get(engine, alive=True)
    assert status == 200 and body["status"] == "ok"
    status, body = await get(engine, alive=False)
    assert status == 503 and body["scheduler"] == "stalled" and body["database"] == "ok"


async def test_unhealthy_when_the_database_is_away() -> None:
    away = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    try:
        status, body = await get(away, alive=True)
    finally:
        await away.dispose()
    assert status == 503
    assert str(body["database"]).startswith("unavailable")
