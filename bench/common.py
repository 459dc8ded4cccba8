"""What every benchmark shares: throwaway databases, the stand-in, child processes, memory
readings, small statistics, the shape of a result, and what the two benchmarks of people
answering (in the chat, on the web pages) share: their drives and their tables."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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


# ------------------------------------------------------------------ people against a bare server
# Benchmarks 2 (answering in the chat) and 5 (on the web pages) drive people through the
# survey against Pejling and against a bare server, and report them in the same tables.


@dataclass
class Drive:
    """What the people experienced."""

    people: int
    latencies: list[float] = field(default_factory=list)
    first: float = float("inf")
    last: float = 0.0
    retried: int = 0  # "try again shortly" (the database was busy): pressed again
    unanswered: int = 0
    stuck: int = 0
    finished: int = 0

    @property
    def presses(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.presses / (self.last - self.first) if self.last > self.first else 0.0

    def latency_ms(self, share: float) -> float:
        return percentile(self.latencies, share) * 1000


@dataclass
class Run:
    drive: Drive
    memory: Memory
    bot_cpu: float  # CPU seconds the server (the bot, the pages) used while the people answered
    standin_cpu: float  # ... and the stand-in or the browsers with the people (this process)
    stored_answers: int = 0
    completed: int = 0

    def cpu_ms_per_press(self) -> float:
        return 1000 * self.bot_cpu / self.drive.presses if self.drive.presses else float("nan")


Results = dict[tuple[str, int], tuple[Run, Run]]  # (database, people): Pejling's, the bare one's


@dataclass(frozen=True)
class Words:
    """What a benchmark of people answering calls its parts in its tables and checks."""

    title: str  # "Answering"
    act: str  # "press": one measured answer
    acts: str  # "presses"
    server: str  # "bot": what serves the people
    bare: str  # "bare bot": the reference
    failed: str  # "unanswered": the open loop's column of answers that failed


Person = TypeVar("Person")


def open_loop_people(rate: float, seconds: float, acts_per_person: int) -> int:
    """People enough for ``seconds`` of answers at ``rate``, ``acts_per_person`` each."""
    return max(10, math.ceil(rate * seconds / acts_per_person))


async def arrive(
    idle: deque[Person],
    act: Callable[[Person], Awaitable[bool]],
    drive: Drive,
    rate: float,
    rng: random.Random,
) -> None:
    """Open loop: acts arrive at ``rate`` per second as a Poisson process, whatever the
    server's speed, each the next act of someone ``idle`` (``act`` is True while that
    person has more to do). So a slow server meets the same load, and its queue shows in
    the latency (a closed loop, where each act waits for the last, hides it). An arrival
    with nobody free is counted in ``stuck``: the people were too few for the rate."""
    busy: set[asyncio.Task[None]] = set()

    async def one(person: Person) -> None:
        if await act(person):
            idle.append(person)

    arrival = time.monotonic()
    while idle or busy:
        arrival += rng.expovariate(rate)
        await asyncio.sleep(max(0.0, arrival - time.monotonic()))
        if not idle:
            if busy:
                drive.stuck += 1
                await asyncio.wait(busy, return_when=asyncio.FIRST_COMPLETED)
            continue
        task = asyncio.create_task(one(idle.popleft()))
        busy.add(task)
        task.add_done_callback(busy.discard)


async def saturation_runs(
    databases: Sequence[str],
    sizes: Sequence[int],
    quick: bool,
    workdir: Path,
    pejling: Callable[[str, Path, int], Awaitable[Run]],
    bare: Callable[[Path, int], Awaitable[Run]],
) -> tuple[Results, dict[int, Run]]:
    """Pejling on each database at each size (``pejling(database, workdir, people)``),
    each beside the bare server's run (``bare(workdir, people)``)."""
    results: Results = {}
    bare_runs: dict[int, Run] = {}
    for database in databases:
        for size in sizes:
            mine = await pejling(database, workdir, size)
            # The bare server runs right after each Pejling run, so drift on the shared
            # machine touches both alike; a quick run measures it once.
            if not quick or size not in bare_runs:
                bare_runs[size] = await bare(workdir, size)
            results[(database, size)] = (mine, bare_runs[size])
    return results, bare_runs


Failures = Sequence[tuple[str, Callable[[Drive, Drive], object]]]


def saturation_table(section: Section, words: Words, results: Results, failed: Failures) -> None:
    """The closed loop's table; ``failed``: the columns of what failed, (heading, value
    of Pejling's and the bare drive)."""
    rows: list[Sequence[object]] = []
    for (database, size), (mine, bare) in results.items():
        p, b = mine.drive, bare.drive
        rows.append(
            (
                database,
                size,
                p.presses,
                f"{p.rate:.0f}/s",
                f"{b.rate:.0f}/s",
                f"**{ratio(p.rate, b.rate):.2f}**",
                f"{p.latency_ms(0.5):.0f} / {p.latency_ms(0.99):.0f}",
                f"{b.latency_ms(0.5):.0f} / {b.latency_ms(0.99):.0f}",
                f"{mine.cpu_ms_per_press():.1f} / {bare.cpu_ms_per_press():.1f}",
                *(value(p, b) for _, value in failed),
                f"{mine.stored_answers} / {mine.completed}",
                f"{mine.memory.rss:.0f} / {bare.memory.rss:.0f}",
            )
        )
    section.table(
        (
            "database",
            "people at once",
            words.acts,
            "Pejling",
            "bare",
            "Pejling / bare",
            "Pejling p50 / p99 ms",
            "bare p50 / p99 ms",
            f"{words.server} CPU ms per {words.act} (Pejling / bare)",
            *(heading for heading, _ in failed),
            "answers stored / completed",
            "RSS after, MB (Pejling / bare)",
        ),
        rows,
    )


def open_loop_table(
    section: Section, words: Words, results: Sequence[tuple[str, float, Run, Run]]
) -> None:
    """The open loop's table, a row (database, arrivals a second, Pejling's, bare run)."""
    rows: list[Sequence[object]] = []
    for database, rate, mine, bare in results:
        p, b = mine.drive, bare.drive
        rows.append(
            (
                database,
                f"{rate:.0f}/s",
                p.people,
                p.presses,
                f"{p.rate:.0f}/s / {b.rate:.0f}/s",
                f"**{p.latency_ms(0.5):.0f} / {p.latency_ms(0.99):.0f}**",
                f"{b.latency_ms(0.5):.0f} / {b.latency_ms(0.99):.0f}",
                f"{mine.cpu_ms_per_press():.1f} / {bare.cpu_ms_per_press():.1f}",
                f"{p.stuck} / {b.stuck}",
                p.unanswered,
                f"{mine.stored_answers} / {mine.completed}",
            )
        )
    section.table(
        (
            "database",
            "arrivals",
            "people",
            words.acts,
            "achieved (Pejling / bare)",
            "Pejling p50 / p99 ms",
            "bare p50 / p99 ms",
            f"{words.server} CPU ms per {words.act} (Pejling / bare)",
            "nobody free (Pejling / bare)",
            words.failed,
            "answers stored / completed",
        ),
        rows,
    )


def growth_table(
    section: Section,
    words: Words,
    results: Results,
    sizes: Sequence[int],
    databases: Sequence[str],
    figures: Sequence[tuple[str, Callable[[Run], float]]],
) -> None:
    """How the throughputs and Pejling's ``figures`` (heading, figure of a run) grow as the
    people double."""
    rows: list[Sequence[object]] = []
    for database in databases:
        runs = [results[(database, size)] for size in sizes]
        rows.append(
            (
                database,
                growth([mine.drive.rate for mine, _ in runs]),
                *(growth([figure(mine) for mine, _ in runs]) for _, figure in figures),
                growth([bare.drive.rate for _, bare in runs]),
            )
        )
    section.table(
        (
            "database",
            f"Pejling {words.acts}/s ({' -> '.join(map(str, sizes))} people)",
            *(heading for heading, _ in figures),
            f"bare {words.acts}/s",
        ),
        rows,
    )


def throughput_check(
    section: Section,
    words: Words,
    database: str,
    people: int,
    runs: tuple[Run, Run],
    complete: bool,
    why: str,
) -> None:
    """Pejling's saturation throughput against the bare server's: at least 0.6 of it."""
    mine, bare = runs
    share = ratio(mine.drive.rate, bare.drive.rate)
    section.checks.append(
        Check(
            f"{words.title}, Pejling / bare throughput on {database} ({people} people)",
            f"{share:.2f} ({mine.drive.rate:.0f} vs {bare.drive.rate:.0f} {words.acts}/s)",
            ">= 0.6",
            share >= 0.6 and complete,
            ("" if share >= 0.6 else f"missed by {0.6 - share:.2f}: {why}")
            + ("" if complete else "; and not every answer was stored"),
        )
    )


def latency_check(
    section: Section,
    words: Words,
    database: str,
    rate: float,
    runs: tuple[Run, Run],
    complete: bool,
) -> None:
    """Pejling's p99 latency in the open loop: under 250 ms."""
    mine, bare = runs
    p99 = mine.drive.latency_ms(0.99)
    section.checks.append(
        Check(
            f"{words.title}, p99 latency at {rate:.0f} {words.acts}/s arriving (open loop) "
            f"on {database}",
            f"{p99:.0f} ms (p50 {mine.drive.latency_ms(0.5):.0f} ms; {words.bare} p99 "
            f"{bare.drive.latency_ms(0.99):.0f} ms)",
            "< 250 ms",
            p99 < 250 and complete,
            ("" if p99 < 250 else f"over by {p99 - 250:.0f} ms")
            + ("" if complete else "; and not every answer was stored"),
        )
    )
