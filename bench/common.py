"""What every benchmark shares: throwaway databases, the stand-in, child processes, memory
readings, small statistics and the shape of a result."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from storage.db import create_engine
from storage.migrate import upgrade
from tests.postgres import TEST_POSTGRES_URL, PostgresServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME = "pejling_bench_bot"
POSTGRES_URL = os.environ.get("PEJLING_BENCH_POSTGRES_URL", TEST_POSTGRES_URL)
POSTGRES = PostgresServer(POSTGRES_URL)
DATABASES = ("sqlite", "postgres")
KIB, MB = 1024, 1_000_000


# ------------------------------------------------------------------ results


@dataclass
class Check:
    """One figure held against its target from the issue."""

    name: str
    value: str
    target: str
    met: bool | None  # None: not measured
    note: str = ""


@dataclass
class Section:
    """What one benchmark reports: its checks and its Markdown body."""

    key: str
    title: str
    checks: list[Check] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.lines.extend(markdown_table(headers, rows))
        self.lines.append("")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return out


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) quantile by the nearest-rank method; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def growth(values: Sequence[float]) -> str:
    """How a figure grows from one doubling to the next: "x1.9, x2.1"."""
    steps = [ratio(b, a) for a, b in itertools.pairwise(values)]
    return ", ".join(f"x{step:.2f}" for step in steps) if steps else "-"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


class StatementCounter:
    """Counts the SQL statements an engine runs while ``counting``, by verb and table
    ("SELECT answers", "UPDATE deliveries"); an executemany counts once, and transaction
    control (BEGIN, COMMIT, ROLLBACK) not at all."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.counts: Counter[str] = Counter()
        self.counting = False
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        statement = args[2]
        if self.counting and isinstance(statement, str):
            kind = statement_kind(statement)
            # Transaction control is left out on both databases: asyncpg's BEGIN does not
            # pass this event, and SQLite's BEGIN IMMEDIATE stands for its implicit BEGIN.
            if kind not in ("BEGIN", "COMMIT", "ROLLBACK"):
                self.counts[kind] += 1

    def text(self, per: int, what: str) -> str:
        """ "13.4 per press (SELECT answers 1.6, ...)"."""
        if per <= 0:
            return "-"
        # Statements run once for the whole run (the lease, say) round to 0.0: left out.
        parts = ", ".join(
            f"{kind} {n / per:.1f}" for kind, n in self.counts.most_common() if n / per >= 0.05
        )
        return f"{sum(self.counts.values()) / per:.1f} per {what} ({parts})"


def statement_kind(statement: str) -> str:
    """ "SELECT answers", "UPDATE deliveries", ...: what a statement reads or writes."""
    words = statement.replace('"', "").split()
    verb = words[0].upper()
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    for before, word in itertools.pairwise(words):
        if before.upper() in ("FROM", "INTO"):
            return f"{verb} {word}"
    return verb


# ------------------------------------------------------------------ databases


async def postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not."""
    return await POSTGRES.problem()


async def postgres_version() -> str:
    connection = await POSTGRES.connect()
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


class Templates:
    """A migrated, empty database of each kind, made once per run; each throwaway database
    is a copy of it (a file copy, or CREATE DATABASE ... TEMPLATE), which is much faster
    than running every migration again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.sqlite: Path | None = None
        self.postgres: str | None = None

    async def sqlite_copy(self) -> str:
        if self.sqlite is None:
            self.sqlite = self.workdir / "template.db"
            await migrate(f"sqlite+aiosqlite:///{self.sqlite}")
        copy = self.workdir / f"pejling-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.sqlite, copy)
        return f"sqlite+aiosqlite:///{copy}"

    async def postgres_template(self) -> str:
        if self.postgres is None:
            self.postgres = await POSTGRES.create("pejling_bench_template")
            await migrate(POSTGRES.url_of(self.postgres))
        return self.postgres

    async def drop(self) -> None:
        if self.postgres is not None:
            await POSTGRES.drop(self.postgres)
            self.postgres = None


_templates: dict[Path, Templates] = {}


def templates(workdir: Path) -> Templates:
    """The templates of a run (one working folder per run)."""
    return _templates.setdefault(workdir, Templates(workdir))


async def drop_templates() -> None:
    for made in _templates.values():
        await made.drop()
    _templates.clear()


@contextlib.asynccontextmanager
async def throwaway_database(kind: str, workdir: Path) -> AsyncIterator[str]:
    """A fresh, migrated database: an SQLite file in ``workdir``, or a PostgreSQL database
    of its own that is dropped afterwards."""
    if kind == "sqlite":
        yield await templates(workdir).sqlite_copy()
        return
    template = await templates(workdir).postgres_template()
    async with POSTGRES.throwaway("pejling_bench", template=template) as url:
        yield url


async def migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def engine_of(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


def settings_for(database_url: str, api_url: str, *, send_rate: float = 1000) -> Settings:
    """Pejling's settings for a benchmark: always contact hours, no health port."""
    return Settings(
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=api_url,
        bot_username=BOT_USERNAME,
        municipality="Testrup Kommune",
        contact="Ældreservice, tlf. 70 11 22 33",
        send_rate=send_rate,
        contact_hours="00-24",
        health_port=0,
        log_level="WARNING",
    )


# ------------------------------------------------------------------ child processes


def child_env(**settings: str) -> dict[str, str]:
    """The environment of a child: ours without any Pejling setting, plus ``settings``."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key not in names}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.update(settings)
    return env


def pejling_env(database_url: str, api_url: str, **extra: str) -> dict[str, str]:
    """What `pejling run` reads, for a bot against the stand-in."""
    return child_env(
        BOT_TOKEN=TOKEN,
        DATABASE_URL=database_url,
        TELEGRAM_API_URL=api_url,
        BOT_USERNAME=BOT_USERNAME,
        MUNICIPALITY="Testrup Kommune",
        CONTACT="Ældreservice, tlf. 70 11 22 33",
        CONTACT_HOURS="00-24",
        SEND_RATE="1000",
        HEALTH_PORT="0",
        LOG_LEVEL="WARNING",
        **extra,
    )


def pejling_command(*args: str) -> list[str]:
    """`pejling ARGS`, run with this interpreter (the console script does the same)."""
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", *args]


def module_command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


@dataclass
class Child:
    """A process under test; its output goes to a log file, never to a pipe that fills."""

    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, command: list[str], env: dict[str, str], workdir: Path, name: str) -> Child:
        log = workdir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT
            )
        return cls(process, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory(self) -> Memory:
        return read_memory(self.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, timeout: float = 15) -> int:
        """SIGTERM (the bot finishes what it does), then SIGKILL if it hangs."""
        if self.alive():
            self.process.terminate()
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.process.wait), timeout)
        except TimeoutError:
            self.process.kill()
            return self.process.wait()


@dataclass(frozen=True)
class Memory:
    """A process' resident memory now (VmRSS) and at its peak (VmHWM), in MB (10^6 bytes,
    as the issue's targets are written)."""

    rss: float
    peak: float


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time a process has used so far (this one by default)."""
    if pid is None:
        usage = os.times()
        return usage.user + usage.system
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of stat(5), counted after the ")" from 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_memory(pid: int) -> Memory:
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * KIB / MB
    return Memory(values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan")))


@dataclass(frozen=True)
class Finished:
    """A child that ran to its end: exit code, wall time, peak RSS (MB), its output."""

    returncode: int
    seconds: float
    peak_mb: float
    output: str


# A child's peak RSS from wait4 starts at its parent's RSS at the fork (Linux keeps the
# high-water mark across exec), so a big benchmark process would hide a small child's
# peak. This wrapper, a bare interpreter of about 9 MB, forks the command and reports.
_PEAK_WRAPPER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_to_end(command: list[str], env: dict[str, str], workdir: Path) -> Finished:
    """Run a command to its end and read its own peak RSS (ru_maxrss from wait4)."""
    name = uuid.uuid4().hex[:6]
    log, peak = workdir / f"run-{name}.log", workdir / f"run-{name}.peak"
    started = time.perf_counter()
    with log.open("wb") as out:
        returncode = subprocess.run(
            [sys.executable, "-S", "-c", _PEAK_WRAPPER, str(peak), *command],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    seconds = time.perf_counter() - started
    # Linux reports ru_maxrss in KiB.
    peak_kib = int(peak.read_text()) if peak.exists() else 0
    return Finished(returncode, seconds, peak_kib * KIB / MB, log.read_text(errors="replace"))


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the elapsed wall time in seconds."""
    box: list[float] = []
    started = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - started)
