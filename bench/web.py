"""Benchmark 5: answering on the web pages, as fast as they take answers.

Pejling runs as in production, ``pejling web`` in a process of its own (the real
application: encrypted session cookie, CSRF check, security headers, the database),
on SQLite or PostgreSQL. The reference is ``bench.bare_web``: bare aiohttp +
aiohttp-jinja2 in a process of its own, rendering the same templates with the same views
and touching no database.

Each simulated person is a client of its own (``demo.browser.WebPerson``: its own cookie
jar and connection) that reads each page with the standard library's HTML parser and
sends the form of the button it chose: an answer is the POST of that form and the GET of
the page the 303 leads to, from the first question through the seven questions to
"Nej tak, afslut" on the comment page: eight answers a person. An answer's latency runs
from sending the POST to having read the next page. Getting in (the letter's link, the
information) happens before the clock starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bench.common import (
    Child,
    Drive,
    Run,
    Section,
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
    saturation_runs,
    saturation_table,
    throughput_check,
    throwaway_database,
)
from bench.population import care_home
from demo.browser import Page, WebPerson, free_port, wait_until_served
from storage.db import session_factory
from storage.enums import Channel
from storage.models import Answer, Delivery, DeliveryStatus, InviteRole, RoundAudience
from storage.types import utcnow
from surveys.fieldwork import rounds
from surveys.questionnaire.loader import load_surveys
from surveys.registry.invites import issue_invites, web_link

LINK_SECRET = "bench-link-secret-0123456789abcdefghijklmnop"
WEB_SESSION_SECRET = "bench-session-secret-0123456789abcdefghijk"
QUESTIONS = 7  # the standard survey asks a relative in a care home seven questions
ANSWERS_PER_PERSON = QUESTIONS + 1  # and the finish on the comment page
FINISH = "Nej tak, afslut"
THANKS = "Tak for dine svar"
AT_ONCE = 20  # people getting in at the same time, before the clock starts
OPEN_LOOP_SECONDS = 15.0
WORDS = Words("Web answers", "answer", "answers", "server", "bare pages", "failed")
ANSWER_TIMEOUT = 60.0


# ------------------------------------------------------------------ the people


def _choose(page: Page, rng: random.Random) -> str:
    """An answer on a question page (a scale word, "Ved ikke" or "Spring over"), or the
    finish on the comment page."""
    if FINISH in page.buttons():
        return FINISH
    return rng.choice(
        [
            button.words
            for form in page.forms
            if form.action == "/svar"
            for button in form.buttons
            if button.name == "choice"
        ]
    )


async def _answer_once(person: WebPerson, drive: Drive, rng: random.Random) -> bool:
    """One answer and the next page; True while the person has more to answer."""
    assert person.page is not None
    words = _choose(person.page, rng)
    sent = time.monotonic()
    drive.first = min(drive.first, sent)
    try:
        page = await person.press(words)
    except (aiohttp.ClientError, TimeoutError):
        drive.unanswered += 1
        return False
    received = time.monotonic()
    drive.last = max(drive.last, received)
    if page.status != 200:  # an error page: counted, and this person stops
        drive.unanswered += 1
        return False
    drive.latencies.append(received - sent)
    if page.h1.startswith(THANKS):
        drive.finished += 1
        return False
    return True


async def _answer_all(person: WebPerson, drive: Drive, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(ANSWERS_PER_PERSON * 3):
        if not await _answer_once(person, drive, rng):
            return
    drive.stuck += 1


async def drive_closed_loop(persons: list[WebPerson]) -> Drive:
    """Everyone answers at once, each as soon as their last page has come."""
    drive = Drive(len(persons))
    await asyncio.gather(*(_answer_all(p, drive, seed) for seed, p in enumerate(persons)))
    return drive


async def drive_open_loop(persons: list[WebPerson], *, rate: float, seed: int = 7) -> Drive:
    """Answers arrive at ``rate`` per second as a Poisson process, whatever the pages'
    speed (open loop: ``arrive``), each the next answer of someone whose last page has
    come; an arrival with nobody free is counted in ``stuck`` (too few people for the rate)."""
    drive = Drive(len(persons))
    rng = random.Random(seed)
    await arrive(deque(persons), lambda person: _answer_once(person, drive, rng), drive, rate, rng)
    return drive


@contextlib.asynccontextmanager
async def browsers(base_url: str, count: int) -> AsyncIterator[list[WebPerson]]:
    persons = [WebPerson(base_url, timeout=ANSWER_TIMEOUT) for _ in range(count)]
    try:
        yield persons
    finally:
        await asyncio.gather(*(p.client.close() for p in persons))


async def _all_at_first_question(
    persons: list[WebPerson], enter: Callable[[WebPerson, int], Awaitable[Page]]
) -> None:
    semaphore = asyncio.Semaphore(AT_ONCE)

    async def one(number: int, person: WebPerson) -> None:
        async with semaphore:
            page = await enter(person, number)
        if page.status != 200 or not page.progress.startswith("Spørgsmål 1 "):
            raise RuntimeError(f"not at the first question: {page.url} {page.h1!r}")

    await asyncio.gather(*(one(n, p) for n, p in enumerate(persons)))


# ------------------------------------------------------------------ Pejling and the reference


async def populate_letters(database_url: str, count: int, public_url: str) -> list[str]:
    """``count`` relatives of citizens of one care home with a printed letter each (the
    web link derived from LINK_SECRET), and a round open for relatives. Returns the links."""
    now = utcnow()
    async with engine_of(database_url) as engine, session_factory(engine)() as session:
        unit, citizen_ids = await care_home(session, count)
        links = []
        for citizen_id in citizen_ids:
            [issued] = await issue_invites(
                session,
                InviteRole.RELATIVE,
                ttl=timedelta(days=30),
                citizen_id=citizen_id,
                secret=LINK_SECRET.encode(),
            )
            links.append(web_link(public_url, issued.token))
        await rounds.start_round(
            session,
            load_surveys()["standard"],
            [unit],
            RoundAudience.RELATIVES,
            now + timedelta(days=14),
        )
        await session.commit()
    return links


Driver = Callable[[list[WebPerson]], Awaitable[Drive]]


async def _measured(child: Child, persons: list[WebPerson], driver: Driver) -> Run:
    server_before, own_before = cpu_seconds(child.pid), cpu_seconds()
    drive = await driver(persons)
    server_cpu, own_cpu = cpu_seconds(child.pid) - server_before, cpu_seconds() - own_before
    if not child.alive():
        raise RuntimeError(f"the web pages stopped:\n{child.tail()}")
    return Run(drive, child.memory(), server_cpu, own_cpu)


async def _served(child: Child, base_url: str) -> None:
    served = asyncio.ensure_future(wait_until_served(base_url))
    while not served.done():
        await asyncio.wait({served}, timeout=0.5)
        if not child.alive():
            served.cancel()
            raise RuntimeError(f"the web pages did not start:\n{child.tail()}")
    served.result()


async def pejling_run(
    database: str, workdir: Path, people: int, driver: Driver = drive_closed_loop
) -> Run:
    """`pejling web` on a fresh database: people open their letters' links, accept the
    information, and then answer (measured)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    async with throwaway_database(database, workdir) as url:
        links = await populate_letters(url, people, base_url)
        env = child_env(
            DATABASE_URL=url,
            WEBHOOK_HOST="127.0.0.1",
            WEB_PORT=str(port),
            PUBLIC_URL=base_url,
            LINK_SECRET=LINK_SECRET,
            WEB_SESSION_SECRET=WEB_SESSION_SECRET,
            MUNICIPALITY="Testrup Kommune",
            CONTACT="Ældreservice, tlf. 70 11 22 33",
            LOG_LEVEL="WARNING",
        )
        child = Child.start(pejling_command("web"), env, workdir, "web")
        try:
            await _served(child, base_url)

            async def enter(person: WebPerson, number: int) -> Page:
                await person.open(links[number])
                await person.follow("Svar her")
                return await person.press("Ja, jeg vil gerne være med")

            async with browsers(base_url, people) as persons:
                await _all_at_first_question(persons, enter)
                run = await _measured(child, persons, driver)
        finally:
            await child.stop()
        async with engine_of(url) as engine, engine.connect() as connection:
            stored = await connection.scalar(
                select(func.count()).select_from(Answer).where(Answer.channel == Channel.WEB)
            )
            completed = await connection.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.COMPLETED, Delivery.channel == Channel.WEB)
            )
    run.stored_answers, run.completed = int(stored or 0), int(completed or 0)
    return run


async def bare_run(workdir: Path, people: int, driver: Driver = drive_closed_loop) -> Run:
    """The reference pages, driven the same way."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    child = Child.start(
        module_command("bench.bare_web", "--port", str(port)),
        child_env(LOG_LEVEL="WARNING"),
        workdir,
        "bare-web",
    )
    try:
        await _served(child, base_url)

        async def enter(person: WebPerson, number: int) -> Page:
            return await person.open("/start")

        async with browsers(base_url, people) as persons:
            await _all_at_first_question(persons, enter)
            return await _measured(child, persons, driver)
    finally:
        await child.stop()


# ------------------------------------------------------------------ the benchmark


async def run(workdir: Path, *, quick: bool, databases: list[str]) -> Section:
    section = Section("web", "5. Answering on the web pages")
    sizes = (10,) if quick else (50, 100, 200)
    full = sizes[-1]
    section.add(
        "Simulated people answer on the web pages over real HTTP on loopback. Pejling is "
        "`pejling web` in a process of its own (`LOG_LEVEL=WARNING`): the real application "
        "with its encrypted session cookie, CSRF check, security headers and database. The "
        "reference is `bench/bare_web.py`, bare aiohttp + aiohttp-jinja2 in a process of its "
        "own rendering the same templates with the same views and no database (where the "
        "person is travels in a plain cookie). Each person is an HTTP client of its own "
        "(cookie jar, connection) in the benchmark's process, reading every page with the "
        "standard library's HTML parser, so server and people each have a core. An answer "
        f"is the POST of the chosen button's form and the GET of the page its 303 leads to; "
        f"each person gives {ANSWERS_PER_PERSON} (7 questions, then 'Nej tak, afslut'). "
        "Latency: POST sent -> next page read. CPU: user + system time of the server's "
        "process while the people answered, per answer.",
        "",
        "### (a) Saturation: each person answers again as soon as the next page has come",
        "",
    )
    results, _ = await saturation_runs(databases, sizes, quick, workdir, pejling_run, bare_run)
    saturation_table(
        section,
        WORDS,
        results,
        [
            (
                "failed (Pejling / bare)",
                lambda p, b: f"{p.unanswered + p.stuck} / {b.unanswered + b.stuck}",
            )
        ],
    )
    section.add(
        f"Every Pejling run should store {QUESTIONS} answers by the web channel and one "
        "completed delivery per person.",
        "",
    )
    if len(sizes) > 1:
        section.add(
            "Growth as the people double (ideal once the server is saturated: throughput x1.00):",
            "",
        )
        growth_table(
            section,
            WORDS,
            results,
            sizes,
            databases,
            [("Pejling p99", lambda run: run.drive.latency_ms(0.99))],
        )

    rate = 50.0
    seconds = 3.0 if quick else OPEN_LOOP_SECONDS
    people = open_loop_people(rate, seconds, ANSWERS_PER_PERSON)
    driver = partial(drive_open_loop, rate=rate)
    bare = await bare_run(workdir, people, driver)
    open_results = {
        database: (await pejling_run(database, workdir, people, driver), bare)
        for database in databases
    }
    _open_loop_table(section, open_results, rate, seconds)
    for database in databases:
        _throughput_check(section, database, full, results[(database, full)])
        _latency_check(section, database, rate, open_results[database])
    return section


def _complete(run: Run) -> bool:
    people = run.drive.people
    return run.stored_answers == people * QUESTIONS and run.completed == people


def _open_loop_table(
    section: Section, results: dict[str, tuple[Run, Run]], rate: float, seconds: float
) -> None:
    section.add(
        "### (b) Latency at a given load: answers arrive at a fixed rate",
        "",
        f"An open loop: answers arrive as a Poisson process at {rate:.0f}/s for about "
        f"{seconds:.0f} s, each the next answer of someone whose last page has come, "
        "whatever the pages' speed. Pejling and the bare pages get the same arrivals (same "
        "seed). 'Nobody free' counts arrivals when every person was waiting for a page (0 "
        "means the load was applied as planned).",
        "",
    )
    open_loop_table(section, WORDS, [(database, rate, *runs) for database, runs in results.items()])


def _throughput_check(section: Section, database: str, people: int, runs: tuple[Run, Run]) -> None:
    cpu, bare_cpu = runs[0].cpu_ms_per_press(), runs[1].cpu_ms_per_press()
    why = (
        f"Pejling's process spends {cpu:.1f} ms of CPU per answer against {bare_cpu:.1f} ms "
        "for the bare pages; the difference is Pejling's own work per answer (the database "
        "reads and writes of the POST and of the next page, the session cookie, the CSRF "
        "check, the headers); bench/PROFILES.md, web section, says where it went"
    )
    throughput_check(section, WORDS, database, people, runs, _complete(runs[0]), why)


def _latency_check(section: Section, database: str, rate: float, runs: tuple[Run, Run]) -> None:
    latency_check(section, WORDS, database, rate, runs, _complete(runs[0]))
