"""Benchmark 2: people pressing answer buttons as fast as the bot takes them.

Pejling runs as in production, ``pejling run`` in a process of its own (long polling,
the real dispatcher, middlewares and database; its own sender sends the invitations),
against the stand-in in this process over loopback HTTP. The reference is
``bench.bare_bot``: bare aiogram in a process of its own, making the same calls
(editMessageText, then answerCallbackQuery) and touching no database.

Each simulated person presses a button, waits until the bot has answered the press
(answerCallbackQuery), and presses the next one, from "Start spørgeskemaet" through the
seven questions to "Nej tak, afslut": nine presses. A press's latency runs from the
moment its update is queued at the stand-in to the moment the stand-in receives the
answer, both on this process' clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import func, select

from bench.common import (
    BOT_USERNAME,
    TOKEN,
    Child,
    Drive,
    Memory,
    Results,
    Run,
    Section,
    StatementCounter,
    Words,
    arrive,
    child_env,
    cpu_seconds,
    engine_of,
    growth_table,
    latency_check,
    module_command,
    open_loop_people,
    open_loop_table,
    pejling_command,
    pejling_env,
    saturation_runs,
    saturation_table,
    settings_for,
    throughput_check,
    throwaway_database,
)
from bench.population import FIRST_USER_ID, populate
from bot.app import build_bot, build_dispatcher
from bot.i18n import make_i18n
from bot.sender import Sender
from standin import BotAPIStandIn, Person
from standin.models import ApiCall
from storage.db import session_factory
from storage.models import Answer, Delivery

PRESS_TIMEOUT = 60.0
MAX_PRESSES = 40  # a person who needs more is stuck; the run says so
TRY_AGAIN = "teknisk problem"  # Pejling's "try again shortly" when the database is busy
WORDS = Words("Answering", "press", "presses", "bot", "bare bot", "unanswered")


class AnswerWatcher:
    """One task reads the stand-in's calls once, in order, and hands each person the
    answer to their press (200 people each scanning every call would measure the
    benchmark, not the bot)."""

    def __init__(self, standin: BotAPIStandIn) -> None:
        self.standin = standin
        self.cursor = 0
        self.waiting: dict[str, asyncio.Future[ApiCall]] = {}
        self.early: dict[str, ApiCall] = {}

    def expect(self, callback_id: str) -> asyncio.Future[ApiCall]:
        future: asyncio.Future[ApiCall] = asyncio.get_running_loop().create_future()
        if callback_id in self.early:
            future.set_result(self.early.pop(callback_id))
        else:
            self.waiting[callback_id] = future
        return future

    async def run(self) -> None:
        calls = self.standin.calls
        while True:
            await self.standin.wait_for(lambda: len(calls) > self.cursor, timeout=3600)
            for call in calls[self.cursor :]:
                if call.method != "answerCallbackQuery":
                    continue
                callback_id = str(call.params.get("callback_query_id"))
                future = self.waiting.pop(callback_id, None)
                if future is None:
                    self.early[callback_id] = call
                elif not future.done():
                    future.set_result(call)
            self.cursor = len(calls)


def _choose(buttons: list[str], rng: random.Random) -> str:
    if "Nej tak, afslut" in buttons:
        return "Nej tak, afslut"
    return rng.choice([b for b in buttons if not b.startswith("⬅")])


async def _answer_all(person: Person, watcher: AnswerWatcher, drive: Drive, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(MAX_PRESSES):
        if not await _press_once(person, watcher, drive, rng):
            return
    drive.stuck += 1


async def drive_people(standin: BotAPIStandIn, users: list[int]) -> Drive:
    """Everyone presses through the survey at once, as fast as the bot answers."""
    watcher = AnswerWatcher(standin)
    watching = asyncio.create_task(watcher.run())
    drive = Drive(len(users))
    try:
        people = [standin.person(user, first_name=f"P{user}") for user in users]
        await asyncio.gather(
            *(_answer_all(p, watcher, drive, seed) for seed, p in enumerate(people))
        )
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    return drive


OPEN_LOOP_SECONDS = 15.0  # how long presses arrive in an open-loop run
PRESSES_PER_PERSON = 9


async def _press_once(
    person: Person, watcher: AnswerWatcher, drive: Drive, rng: random.Random
) -> bool:
    """One press and its answer; True while the person has more to press."""
    buttons = person.buttons()
    if not buttons:
        drive.finished += 1
        return False
    injected = time.monotonic()
    drive.first = min(drive.first, injected)
    answered = watcher.expect(person.press_nowait(_choose(buttons, rng)))
    try:
        call = await asyncio.wait_for(answered, PRESS_TIMEOUT)
    except TimeoutError:
        drive.unanswered += 1
        return False
    drive.last = max(drive.last, call.timestamp)
    drive.latencies.append(call.timestamp - injected)
    if TRY_AGAIN in str(call.params.get("text") or ""):
        drive.retried += 1
    if person.buttons():
        return True
    drive.finished += 1
    return False


async def drive_open_loop(
    standin: BotAPIStandIn, users: list[int], *, rate: float, seed: int = 7
) -> Drive:
    """Presses arrive at ``rate`` per second as a Poisson process, whatever the bot's
    speed (open loop: ``arrive``), each the next press of someone whose last press was
    answered; an arrival with nobody free is counted in ``stuck``."""
    watcher = AnswerWatcher(standin)
    watching = asyncio.create_task(watcher.run())
    drive = Drive(len(users))
    rng = random.Random(seed)
    idle = deque(standin.person(user, first_name=f"P{user}") for user in users)
    try:
        await arrive(
            idle, lambda person: _press_once(person, watcher, drive, rng), drive, rate, rng
        )
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    return drive


async def _ready(standin: BotAPIStandIn, child: Child, invitations: int) -> None:
    """Wait until the bot polls and every invitation has arrived."""

    def ready() -> bool:
        sent = sum(1 for call in standin.calls_of("sendMessage") if call.ok)
        return not child.alive() or (sent >= invitations and standin.is_polling)

    await standin.wait_for(ready, timeout=120, message="the bot under test did not get ready")
    if not child.alive():
        raise RuntimeError(f"the bot under test stopped:\n{child.tail()}")


Driver = Callable[[BotAPIStandIn, list[int]], Awaitable[Drive]]


async def _measured_drive(
    standin: BotAPIStandIn, child: Child, users: list[int], driver: Driver
) -> tuple[Drive, Memory, float, float]:
    bot_before, own_before = cpu_seconds(child.pid), cpu_seconds()
    drive = await driver(standin, users)
    bot_cpu, own_cpu = cpu_seconds(child.pid) - bot_before, cpu_seconds() - own_before
    return drive, child.memory(), bot_cpu, own_cpu


async def pejling_run(
    database: str, workdir: Path, people: int, driver: Driver = drive_people
) -> Run:
    async with (
        BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin,
        throwaway_database(database, workdir) as url,
    ):
        _, users = await populate(url, standin, people)
        child = Child.start(pejling_command("run"), pejling_env(url, standin.url), workdir, "run")
        try:
            await _ready(standin, child, people)
            measured = await _measured_drive(standin, child, users, driver)
        finally:
            await child.stop()
        async with engine_of(url) as engine, engine.connect() as connection:
            stored = await connection.scalar(select(func.count()).select_from(Answer))
            completed = await connection.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status == "completed")
            )
        return Run(*measured, int(stored or 0), int(completed or 0))


async def bare_run(workdir: Path, people: int, driver: Driver = drive_people) -> Run:
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin:
        users = [FIRST_USER_ID + n for n in range(people)]
        for user in users:
            standin.person(user, first_name=f"P{user}", started=True)
        env = child_env(TELEGRAM_API_URL=standin.url, BOT_TOKEN=TOKEN, LOG_LEVEL="WARNING")
        command = module_command(
            "bench.bare_bot", "--first-user", str(FIRST_USER_ID), "--people", str(people)
        )
        child = Child.start(command, env, workdir, "bare")
        try:
            await _ready(standin, child, people)
            measured = await _measured_drive(standin, child, users, driver)
        finally:
            await child.stop()
        return Run(*measured)


QUESTIONS = 7  # the standard survey asks a relative in a care home seven questions


@dataclass(frozen=True)
class Statements:
    """SQL statements Pejling runs per press over a whole survey (one person alone, the
    dispatcher in this process with a counter on the engine), and that person's presses."""

    presses: int
    counter: StatementCounter
    alone: Drive

    @property
    def per_press(self) -> float:
        return sum(self.counter.counts.values()) / max(1, self.presses)

    def text(self) -> str:
        return self.counter.text(self.presses, "press")


async def statements_per_press(database: str, workdir: Path) -> Statements:
    async with (
        BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin,
        throwaway_database(database, workdir) as url,
    ):
        _, [user] = await populate(url, standin, 1)
        settings = settings_for(url, standin.url)
        async with engine_of(url) as engine:
            counter = StatementCounter(engine)
            sessions = session_factory(engine)
            i18n = make_i18n()
            bot = build_bot(settings)
            dispatcher = build_dispatcher(settings, sessions, i18n)
            polling = asyncio.create_task(
                dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1)
            )
            try:
                await Sender(bot, sessions, settings, i18n).run_once()
                await standin.wait_until_polling()
                counter.counting = True
                drive = await drive_people(standin, [user])
                counter.counting = False
            finally:
                with contextlib.suppress(RuntimeError):
                    await dispatcher.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(polling, timeout=10)
                await bot.session.close()
        return Statements(drive.presses, counter, drive)


async def run(workdir: Path, *, quick: bool, databases: list[str]) -> Section:
    section = Section("answering", "2. Answering")
    sizes = (10,) if quick else (50, 100, 200)
    full = sizes[-1]
    section.add(
        "Simulated people press answer buttons through the whole stack (update -> handler "
        "-> database write -> message edit). Pejling is `pejling run` in a process of its "
        "own (long polling, `LOG_LEVEL=WARNING`); the reference is `bench/bare_bot.py`, "
        "bare aiogram in a process of its own making the same Bot API calls "
        "(editMessageText, answerCallbackQuery) with the same keyboards and no database. "
        "The stand-in and the people run in the benchmark's process, so bot and stand-in "
        "each have a core. Each person makes 9 presses (start, 7 questions, finish). "
        "Latency: update queued -> answerCallbackQuery received. CPU: user + system time "
        "of the bot's process while the people pressed, per press (less sensitive to the "
        "shared machine than wall time).",
        "",
        "### (a) Saturation: each person presses again as soon as the last press is answered",
        "",
        "A closed loop: the bot is always busy, so the rate is its saturation throughput. "
        "Latency here is mostly queueing (Little's law: people / throughput), so it is "
        "shown but not held against a target; see (b) for latency.",
        "",
    )
    results, bare_runs = await saturation_runs(
        databases, sizes, quick, workdir, pejling_run, bare_run
    )
    # The statements are the same on both databases; a quick run counts them once.
    probed = databases[:1] if quick else databases
    statements = {database: await statements_per_press(database, workdir) for database in probed}
    saturation_table(
        section,
        WORDS,
        results,
        [
            ("'try again' answers", lambda p, b: p.retried),
            ("unanswered", lambda p, b: p.unanswered + p.stuck),
        ],
    )
    section.add(
        f"Every run should store {QUESTIONS} answers and one completed delivery per person.",
        "",
        "One person alone, no queue (Pejling's dispatcher in the benchmark's process, sharing "
        "its core with the stand-in), and the SQL statements Pejling runs per press over the "
        "whole survey (start, 7 answers, finish), counted on the engine "
        "(`tests/bot/test_press_statements.py` holds an answer to at most 4 on PostgreSQL and "
        "5 on SQLite):",
        "",
    )
    section.table(
        ("database", "latency p50 / max, ms", "SQL statements per press"),
        [
            (
                database,
                f"{counted.alone.latency_ms(0.5):.0f} / {counted.alone.latency_ms(1.0):.0f}",
                counted.text(),
            )
            for database, counted in statements.items()
        ],
    )
    if len(sizes) > 1:
        _growth(section, results, sizes, databases)

    bare_saturation = max(run.drive.rate for run in bare_runs.values())
    rates = (20.0 if quick else 50.0, round(0.8 * bare_saturation))
    seconds = 3.0 if quick else OPEN_LOOP_SECONDS
    open_results: dict[tuple[str, float], tuple[Run, Run]] = {}
    for rate in rates:
        people = open_loop_people(rate, seconds, PRESSES_PER_PERSON)
        driver = partial(drive_open_loop, rate=rate)
        bare = await bare_run(workdir, people, driver)
        for database in databases:
            open_results[(database, rate)] = (
                await pejling_run(database, workdir, people, driver),
                bare,
            )
    _open_loop_table(section, open_results, rates, bare_saturation, seconds)
    for database in databases:
        counted = statements.get(database) or statements[probed[0]]
        _checks(section, database, full, results[(database, full)], counted)
        _latency_check(section, database, rates[0], open_results[(database, rates[0])])
    return section


def _open_loop_table(
    section: Section,
    results: dict[tuple[str, float], tuple[Run, Run]],
    rates: Sequence[float],
    bare_saturation: float,
    seconds: float,
) -> None:
    section.add(
        "### (b) Latency at a given load: presses arrive at a fixed rate",
        "",
        f"An open loop: presses arrive as a Poisson process at {rates[0]:.0f}/s and at "
        f"{rates[1]:.0f}/s (80 % of the bare bot's saturation rate in (a), "
        f"{bare_saturation:.0f}/s), for about {seconds:.0f} s, each the next press of someone "
        "whose last press was answered, whatever the bot's speed. Pejling and the bare bot "
        "get the same arrivals (same seed). 'Nobody free' counts arrivals when every person "
        "was waiting for an answer (0 means the load was applied as planned).",
        "",
    )
    open_loop_table(
        section, WORDS, [(database, rate, *runs) for (database, rate), runs in results.items()]
    )


def _growth(
    section: Section,
    results: Results,
    sizes: Sequence[int],
    databases: list[str],
) -> None:
    section.add(
        "Growth as the people double (ideal once the bot is saturated: throughput x1.00, "
        "latency x2.00, since twice the people queue for the same bot):",
        "",
    )
    growth_table(
        section,
        WORDS,
        results,
        sizes,
        databases,
        [
            ("Pejling p50", lambda run: run.drive.latency_ms(0.5)),
            ("Pejling p99", lambda run: run.drive.latency_ms(0.99)),
            ("Pejling CPU per press", Run.cpu_ms_per_press),
        ],
    )


def _checks(
    section: Section, database: str, people: int, runs: tuple[Run, Run], statements: Statements
) -> None:
    mine, bare = runs
    complete = mine.stored_answers == people * QUESTIONS and mine.completed == people
    cpu, bare_cpu = mine.cpu_ms_per_press(), bare.cpu_ms_per_press()
    why = (
        f"the bot is CPU-bound on its one core: Pejling's process spends {cpu:.1f} ms of CPU "
        f"per press against {bare_cpu:.1f} ms for the bare bot; the difference is the "
        f"database work of a press, {statements.text()}, each through SQLAlchemy Core in "
        "an ORM session and the async driver, and the commit"
    )
    throughput_check(section, WORDS, database, people, runs, complete, why)


def _latency_check(section: Section, database: str, rate: float, runs: tuple[Run, Run]) -> None:
    complete = runs[0].stored_answers == runs[0].drive.people * QUESTIONS
    latency_check(section, WORDS, database, rate, runs, complete)
