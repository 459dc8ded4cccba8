"""The health port: `/healthz` (the database answers, the scheduler is alive, the sender
may send; for Docker and proxies) and `/metrics` (Prometheus's text format)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.metrics import Metrics
from storage.db import AsyncEngine, database_state


def health_app(
    engine: AsyncEngine,
    scheduler_alive: Callable[[], bool],
    web_pages: Callable[[], Awaitable[str]] | None = None,
    *,
    sender_state: Callable[[], str] = lambda: "ok",
    metrics: Metrics | None = None,
) -> web.Application:
    """An app with GET /healthz: 200 when all is fine, else 503 saying which part is not;
    and GET /metrics when ``metrics`` is given.

    ``web_pages`` says how the web pages answer ("ok" or why not); without it the process
    serves none ("off"). The sender's state is "ok", "paused" (Telegram cannot be reached:
    no fault of this process, so still 200, as restarting it would not help) or
    "unauthorized" (503: the token was refused, and nothing is sent until it is fixed)."""

    async def healthz(request: web.Request) -> web.Response:
        started = time.monotonic()
        database = await database_state(engine)
        scheduler = "ok" if scheduler_alive() else "stalled"
        pages = await web_pages() if web_pages is not None else "off"
        sender = sender_state()
        healthy = (
            database == "ok"
            and scheduler == "ok"
            and pages in ("ok", "off")
            and sender != "unauthorized"
        )
        return web.json_response(
            {
                "status": "ok" if healthy else "unhealthy",
                "database": database,
                "scheduler": scheduler,
                "web": pages,
                "sender": sender,
                "checked_in_ms": round((time.monotonic() - started) * 1000),
            },
            status=200 if healthy else 503,
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    if metrics is not None:
        figures = metrics

        async def metrics_view(request: web.Request) -> web.Response:
            body, content_type = await figures.exposition(request.headers.get("Accept", ""))
            return web.Response(body=body, headers={"Content-Type": content_type})

        app.router.add_get("/metrics", metrics_view)
    return app


async def serve_health(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app``; the caller cleans the runner up on shutdown."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
