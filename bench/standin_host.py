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

import socket
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

    async def close(self, app: web.Application) -> None:
        if self.standin is not None:
            await self.standin.stop()


def main() -> None:
    """Serve until SIGTERM or SIGINT (aiohttp's run_app), the port printed once served."""
    host = Host()
    app = web.Application()
    app.router.add_post("/bench/fresh", host.fresh)
    app.router.add_get("/bench/sends", host.sends)
    app.on_cleanup.append(host.close)
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
        web.run_app(app, sock=sock, access_log=None, print=lambda _banner: print(port, flush=True))


if __name__ == "__main__":
    main()
