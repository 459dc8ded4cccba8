"""Run the Bot API stand-in on its own: ``python -m standin --port 8081``.

Point the bot at the printed URL (as its Bot API server) and drive the conversation with
the control endpoints, for example::

    curl -XPOST localhost:8081/_standin/send -d '{"user_id": 1001, "text": "/start"}'
    curl -XPOST localhost:8081/_standin/press -d '{"user_id": 1001, "button": "Ja"}'
    curl localhost:8081/_standin/chats/1001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .server import BotAPIStandIn


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--username", default="pejling_test_bot")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    standin = BotAPIStandIn(
        token=args.token,
        bot_username=args.username,
        host=args.host,
        port=args.port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if sys.platform != "win32":  # Windows: Ctrl+C ends the run via KeyboardInterrupt
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    async with standin:
        print(f"Bot API stand-in listening on {standin.url}", flush=True)
        print(f"token: {standin.token}", flush=True)
        await stop.wait()
    print("stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point for ``python -m standin``."""
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
