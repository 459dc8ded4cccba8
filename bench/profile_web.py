"""Profile web answers in one process: where a web answer's time goes.

``python -m bench.profile_web --database sqlite --people 20`` serves the real web
application (``web.app.build_web_app``: session cookie, CSRF, headers, the database) on a
loopback port inside this process, lets ``--people`` people of ``bench.web`` open their
letters' links and accept the information, then has them all answer the seven questions
and finish (an answer: the POST and the GET of the next page, as in ``bench.web``) under
cProfile. It prints the answers per second of that loop (an indication only: the people's
own HTML parsing runs in the same process and the profiler slows everything), the SQL
statements per answer, and the profile's top functions by own time and by cumulative
time. ``--out FILE`` keeps the raw profile for ``pstats`` or snakeviz.

Not part of ``bench.run``: a tool for reading a profile, not a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from aiohttp import web

from bench.common import DATABASES, ROOT, Drive, StatementCounter, throwaway_database
from bench.web import (
    ANSWERS_PER_PERSON,
    LINK_SECRET,
    WEB_SESSION_SECRET,
    browsers,
    drive_closed_loop,
    populate_letters,
)
from bot.config import Settings
from demo.browser import free_port
from storage.db import create_engine, session_factory
from web.app import build_web_app


async def profile(
    database: str, people: int, workdir: Path, top: int, out: Path | None, profiled: bool
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    async with throwaway_database(database, workdir) as url:
        links = await populate_letters(url, people, base_url)
        settings = Settings(
            database_url=url,
            public_url=base_url,
            link_secret=LINK_SECRET,
            web_session_secret=WEB_SESSION_SECRET,
            municipality="Testrup Kommune",
            contact="Ældreservice, tlf. 70 11 22 33",
        )
        engine = create_engine(url)
        runner = web.AppRunner(
            build_web_app(settings, session_factory(engine), engine), access_log=None
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with browsers(base_url, people) as persons:
                for person, link in zip(persons, links, strict=True):
                    await person.open(link)
                    await person.follow("Svar her")
                    await person.press("Ja, jeg vil gerne være med")
                counter = StatementCounter(engine)
                counter.counting = True
                profiler = cProfile.Profile()
                started = time.perf_counter()
                if profiled:
                    profiler.enable()
                drive: Drive = await drive_closed_loop(persons)
                profiler.disable()
                seconds = time.perf_counter() - started
        finally:
            await runner.cleanup()
            await engine.dispose()
    answers = len(drive.latencies)
    if not profiled:
        print(f"{database}: {answers} answers in {seconds:.2f} s: {answers / seconds:.0f}/s")
        return
    print(
        f"{database}: {answers} answers ({people} people x {ANSWERS_PER_PERSON}) in "
        f"{seconds:.2f} s{' under cProfile' if profiled else ''}: "
        f"{answers / seconds:.0f} answers/s "
        f"(an indication: the people run in this process too); "
        f"SQL statements {counter.text(answers, 'answer')}"
    )
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    print("Own time by where the code lives (the people's: html.parser, demo, aiohttp client):")
    for where, seconds_there in by_package(stats)[:top]:
        print(f"  {seconds_there:7.3f} s  {where}")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(stream.getvalue())
    if out is not None:
        stats.dump_stats(out)


def _where(filename: str) -> str:
    """A profiled function's home: a package of the venv, a module of the standard
    library, or a directory of Pejling; aiohttp split into its server and client."""
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        package = parts[parts.index("site-packages") + 1]
        if package == "aiohttp":
            side = "client" if path.name.startswith("client") else "server/shared"
            return f"aiohttp ({side})"
        return package.removesuffix(".py")
    if filename.startswith(str(ROOT)):
        return str(path.relative_to(ROOT).parent)
    if filename.startswith("<") or filename == "~":
        return "built-in"
    return f"stdlib {path.stem}"


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own (not cumulative) time summed by where the code lives, biggest first."""
    totals: dict[str, float] = {}
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, _line, name), (_cc, _nc, own, _cum, _callers) in entries:
        where = _where(filename)
        if where == "built-in" and own >= 0.01:
            where = f"built-in {name}"  # the big ones by name: waiting, sockets, threads
        totals[where] = totals.get(where, 0.0) + own
    return sorted(totals.items(), key=lambda item: -item[1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_web", description=__doc__)
    parser.add_argument("--database", choices=DATABASES, default="sqlite")
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--no-profile", action="store_true", help="only time the loop (an indication)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pejling-profile-web-") as workdir:
        asyncio.run(
            profile(
                args.database,
                args.people,
                Path(workdir),
                args.top,
                args.out,
                not args.no_profile,
            )
        )


if __name__ == "__main__":
    main()
