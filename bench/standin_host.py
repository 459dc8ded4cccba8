"""The Bot API stand-in in a process of its own, for the sending benchmark.

At a thousand messages a second the stand-in's own work (parsing, storing, answering
each request) is as large as the sender's; in the sender's process the two would share
one core and the benchmark would measure the stand-in. So the sending benchmark runs
the stand-in here, on the other core, and drives it over a small HTTP interface:

- ``POST /bench/fresh`` with ``{"first_user", "people", "fail", "seed"}``: a new
  stand-in (the old one stops) with those people reachable and, when ``fail`` > 0, that
  share of sendMessage calls answered 429 (retry_after 1). Answers ``{"url"}``.
- ``GET /bench/sends``: every sendMessage call so far, ``[[status, chat_id, time]]``,
  time on this process' monotonic clock.

``python -m bench.standin_host`` prints its port on the first line of its output.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass

from aiohttp import web

from bench.common import BOT_USERNAME, TOKEN
from standin import BotAPIStandIn


@dataclass
class Host:
    standin: BotAPIStandIn | None = None

    async def fresh(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.standin is not None:
            await self.standin.stop()
        standin = BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME)
        await standin.start()
        first = int(body["first_user"])
        for user_id in range(first, first + int(body["people"])):
            standin.person(user_id, started=True)
        fail = float(body.get("fail", 0))
        if fail > 0:
            standin.fail_fraction(
                "sendMessage", fail, status=429, retry_after=1, seed=int(body.get("seed", 5))
            )
        self.standin = standin
        return web.json_response({"url": standin.url})

    async def sends(self, request: web.Request) -> web.Response:
        calls = self.standin.calls_of("sendMessage") if self.standin else []
        return web.json_response(
            [[call.status, call.params.get("chat_id"), call.timestamp] for call in calls]
        )

    async def close(self) -> None:
        if self.standin is not None:
            await self.standin.stop()


async def serve() -> None:
    host = Host()
    app = web.Application()
    app.router.add_post("/bench/fresh", host.fresh)
    app.router.add_get("/bench/sends", host.sends)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await host.close()
        await runner.cleanup()


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
