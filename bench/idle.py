"""Benchmark 4: the memory of a running bot with no traffic.

``pejling run`` (long polling, sender, scheduler) against the stand-in, on SQLite and on
PostgreSQL, left idle; its resident memory is read from /proc (VmRSS, and VmHWM for the
peak). References in the same run: the bare aiogram bot of ``bench.bare_bot`` polling
the same stand-in, a Python that only imports aiogram, and ``python -c pass``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BOT_USERNAME,
    KIB,
    MB,
    TOKEN,
    Check,
    Child,
    Memory,
    Section,
    child_env,
    module_command,
    pejling_command,
    pejling_env,
    run_to_end,
    throwaway_database,
)
from standin import BotAPIStandIn

LIMIT = 120.0  # MB
# What `pejling run` imports before it does anything: the console command with all its
# subcommands, then the composition root with its routers.
IMPORTS = "from bot import cli; cli.build_parser(); import bot.app"
# The same imports, then everything freed handed back: is the memory garbage or live?
TRIMMED = (
    IMPORTS + "; import ctypes, gc; gc.collect(); ctypes.CDLL('libc.so.6').malloc_trim(0); "
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS')))"
)


@dataclass(frozen=True)
class Idle:
    memory: Memory
    start: float  # seconds from starting the process to its first long poll


async def _idle_memory(child: Child, standin: BotAPIStandIn, idle: float, began: float) -> Idle:
    await standin.wait_for(
        lambda: standin.is_polling or not child.alive(), timeout=60, message="no polling"
    )
    start = time.monotonic() - began
    if not child.alive():
        raise RuntimeError(f"the bot stopped:\n{child.tail()}")
    await asyncio.sleep(idle)
    return Idle(child.memory(), start)


async def _pejling(database: str, workdir: Path, idle: float) -> Idle:
    async with (
        BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin,
        throwaway_database(database, workdir) as url,
    ):
        began = time.monotonic()
        child = Child.start(pejling_command("run"), pejling_env(url, standin.url), workdir, "idle")
        try:
            return await _idle_memory(child, standin, idle, began)
        finally:
            await child.stop()


async def _bare(workdir: Path, idle: float) -> Idle:
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin:
        env = child_env(TELEGRAM_API_URL=standin.url, BOT_TOKEN=TOKEN)
        began = time.monotonic()
        child = Child.start(module_command("bench.bare_bot"), env, workdir, "bare-idle")
        try:
            return await _idle_memory(child, standin, idle, began)
        finally:
            await child.stop()


async def run(workdir: Path, *, quick: bool, databases: list[str]) -> Section:
    section = Section("idle", "4. Idle footprint")
    idle = 1.0 if quick else 5.0
    tried = databases[:1] if quick else databases
    mine = {database: await _pejling(database, workdir, idle) for database in tried}
    bare = await _bare(workdir, idle)
    aiogram_only = run_to_end([sys.executable, "-c", "import aiogram"], child_env(), workdir)
    imports_only = run_to_end([sys.executable, "-c", IMPORTS], child_env(), workdir)
    trimmed = run_to_end([sys.executable, "-c", TRIMMED], child_env(), workdir)
    trimmed_mb = int(trimmed.output.split()[-1]) * KIB / MB
    python_only = run_to_end([sys.executable, "-c", "pass"], child_env(), workdir)
    section.add(
        f"`pejling run` (long polling, sender, scheduler; `HEALTH_PORT=0`) against the "
        f"stand-in, idle for {idle:g} s after it started polling; RSS from /proc/<pid>/status "
        "(VmRSS now, VmHWM the peak since start). Start-up: from starting the process to its "
        "first long poll at the stand-in (imports, migrations check, menu).",
        "",
    )
    rows: list[Sequence[object]] = [
        (f"Pejling, {d}", f"**{m.memory.rss:.0f}**", f"{m.memory.peak:.0f}", f"{m.start:.1f} s")
        for d, m in mine.items()
    ]
    rows += [
        (
            "bare aiogram bot, polling (bench/bare_bot.py)",
            f"{bare.memory.rss:.0f}",
            f"{bare.memory.peak:.0f}",
            f"{bare.start:.1f} s",
        ),
        (
            "`pejling run`'s imports alone (`bot.cli`, `bot.app`)",
            "-",
            f"{imports_only.peak_mb:.0f}",
            f"{imports_only.seconds:.1f} s",
        ),
        (
            "the same, then `gc.collect()` and glibc `malloc_trim(0)`",
            f"{trimmed_mb:.0f}",
            "-",
            "-",
        ),
        (
            "`python -c 'import aiogram'`",
            "-",
            f"{aiogram_only.peak_mb:.0f}",
            f"{aiogram_only.seconds:.1f} s",
        ),
        ("`python -c 'pass'`", "-", f"{python_only.peak_mb:.0f}", f"{python_only.seconds:.1f} s"),
    ]
    section.table(("process", "RSS idle, MB", "peak, MB", "start-up"), rows)
    worst_db, worst = max(mine.items(), key=lambda item: item[1].memory.rss)
    rss = worst.memory.rss
    met = rss < LIMIT
    note = ""
    if not met:
        note = (
            f"over by {rss - LIMIT:.0f} MB ({worst_db}); the bare aiogram bot alone takes "
            f"{bare.memory.rss:.0f} MB and importing aiogram {aiogram_only.peak_mb:.0f} MB "
            "(aiogram.types rebuilds every Bot API model at import, so pydantic builds a "
            "validator for each of them, used or not), so Pejling's own share is "
            f"{rss - bare.memory.rss:.0f} MB, of which its imports are "
            f"{imports_only.peak_mb - aiogram_only.peak_mb:.0f} MB (SQLAlchemy, Alembic, "
            "APScheduler, the surveys); the target cannot be met with aiogram 3 as it is"
        )
    section.checks.append(
        Check(
            "Idle RSS of `pejling run`",
            ", ".join(f"{d}: {m.memory.rss:.0f} MB" for d, m in mine.items())
            + f" (bare aiogram bot {bare.memory.rss:.0f} MB)",
            f"< {LIMIT:g} MB",
            met,
            note,
        )
    )
    return section
