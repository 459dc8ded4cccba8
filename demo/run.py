"""`pejling demo`: a whole round on this machine, with no token and no internet.

The packaged Bot API stand-in plays Telegram; a few hundred simulated citizens and
relatives join by their invite links, get their invitations from the real sender and
scheduler, and answer through the real dispatcher over HTTP: the bot is `pejling run`,
the production process, in a process of its own. With realistic variation
(some stop half-way, some press "Ved ikke"; one unit is too small to report). Then the
indicators are printed and the exports written. Only the clocks run faster.
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import signal
import sys
from asyncio.subprocess import Process
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from standin import BotAPIStandIn, Person
from storage.db import create_engine, session_factory
from storage.enums import Audience
from storage.migrate import upgrade
from storage.models import InviteRole, RoundAudience
from storage.types import utcnow
from surveys.exports.charts import theme_charts
from surveys.exports.csv import csv_bytes
from surveys.exports.labels import percent, subject_label, suppressed_text
from surveys.exports.xlsx import write_xlsx
from surveys.fieldwork import rounds
from surveys.indicators import FigureKind, Report, compute_report, round_selection
from surveys.questionnaire.loader import load_surveys
from surveys.questionnaire.schema import Scale, Survey
from surveys.registry import people
from surveys.registry.invites import issue_invites

T = TypeVar("T")
# Where the bot package is, so the bot process finds it however Pejling was installed.
SOURCE_ROOT = str(Path(__file__).resolve().parent.parent)

TOKEN = "424242:DEMO-not-a-real-token-0123456789"
BOT_USERNAME = "pejling_demo_bot"
# How long a simulated person waits for the bot before the demo calls it broken.
WAIT = 60.0


@dataclass(frozen=True)
class DemoUnit:
    name: str
    kind: str
    citizens: int
    quality: float  # 0..1: how well people tend to rate it


UNITS = (
    DemoUnit("Plejecenter Åbakken", "care_home", 60, 0.82),
    DemoUnit("Plejecenter Bakkely", "care_home", 50, 0.55),
    DemoUnit("Hjemmeplejen Nord", "home_care", 70, 0.70),
    DemoUnit("Hjemmeplejen Syd", "home_care", 60, 0.45),
    DemoUnit("Plejecenter Lillebo", "care_home", 4, 0.65),  # too small to report
)
COMMENTS = (
    "Personalet er søde og tager sig god tid.",
    "Maden er ofte kold, når den kommer.",
    "Der kommer for mange forskellige hjælpere.",
    "Tak for god hjælp i en svær tid.",
    "Det ville være dejligt med flere aktiviteter om eftermiddagen.",
)


@dataclass(frozen=True)
class Pressed:
    """One simulated answer, as the person gave it (for checking the figures)."""

    unit: str
    audience: str
    item: str
    kind: str  # value, dont_know, skip
    value: int | None


@dataclass
class DemoResult:
    output: Path
    round_id: int = 0
    invited: int = 0
    report: Report | None = None
    answers: list[Pressed] = field(default_factory=list)
    finished: int = 0
    stopped_half_way: int = 0


@dataclass(frozen=True)
class Participant:
    person: Person
    unit: DemoUnit
    audience: Audience
    token: str


def choose(scale: Scale, quality: float, rng: random.Random) -> int:
    """An answer position: units of higher quality get better answers, with noise."""
    size = len(scale.options)
    if scale.best == "none":
        weights = [0.7, 0.15, 0.1, 0.05][:size] if size == 4 else [1.0] * size
        return rng.choices(range(1, size + 1), weights=weights)[0]
    goodness = min(1.0, max(0.0, rng.gauss(quality, 0.22)))
    from_worst = round(goodness * (size - 1))  # 0 = worst option
    return size - from_worst if scale.best == "first" else from_worst + 1


def button_text(scale: Scale, position: int) -> str:
    smileys = scale.smileys or [""] * len(scale.options)
    return f"{smileys[position - 1]} {scale.options[position - 1]}".strip()


async def _answer(
    standin: BotAPIStandIn,
    participant: Participant,
    survey: Survey,
    rng: random.Random,
    result: DemoResult,
) -> None:
    person, unit = participant.person, participant.unit
    await standin.wait_for(
        lambda: any("Start spørgeskemaet" in m.buttons for m in person.messages), timeout=120
    )
    await person.press("Start spørgeskemaet", timeout=WAIT)
    items = survey.items_for(participant.audience, unit.kind)
    stop_after = rng.randrange(1, len(items)) if rng.random() < 0.12 else None
    for index, item in enumerate(items):
        if stop_after is not None and index == stop_after:
            result.stopped_half_way += 1
            return
        scale = survey.scale_of(item)
        roll = rng.random()
        if roll < 0.07:
            await person.press("Ved ikke", timeout=WAIT)
            result.answers.append(
                Pressed(unit.name, participant.audience, item.id, "dont_know", None)
            )
        elif roll < 0.10:
            await person.press("Spring over", timeout=WAIT)
            result.answers.append(Pressed(unit.name, participant.audience, item.id, "skip", None))
        else:
            position = choose(scale, unit.quality, rng)
            if button_text(scale, position) not in person.buttons():
                raise RuntimeError(
                    f"{item.id}: {button_text(scale, position)!r} not in "
                    f"{[((m.text or '')[:60], m.buttons) for m in person.messages[-3:]]}"
                )
            await person.press(button_text(scale, position), timeout=WAIT)
            result.answers.append(
                Pressed(unit.name, participant.audience, item.id, "value", position)
            )
    if rng.random() < 0.15:
        await person.send(rng.choice(COMMENTS), expect=2, timeout=WAIT)
    else:
        await person.press("Nej tak, afslut", timeout=WAIT)
    result.finished += 1


async def _populate(
    sessions: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    rng: random.Random,
    size: float,
) -> list[Participant]:
    """Units, citizens and invites as the municipality would make them; people join."""
    participants = []
    user_id = 700_000
    async with sessions() as session:
        for demo in UNITS:
            unit = await people.add_unit(session, demo.name, demo.kind)
            citizens = demo.citizens if demo.citizens < 10 else max(10, round(demo.citizens * size))
            for number in range(citizens):
                citizen = await people.add_citizen(session, unit, f"Borger{chr(65 + number % 26)}")
                joiners: list[Audience] = []
                if rng.random() < (0.5 if demo.kind == "home_care" else 0.3):
                    joiners.append(Audience.CITIZEN)
                joiners += [Audience.RELATIVE] * rng.choice([0, 1, 1, 2])
                for audience in joiners:
                    role = (
                        InviteRole.CITIZEN if audience == Audience.CITIZEN else InviteRole.RELATIVE
                    )
                    [issued] = await issue_invites(
                        session, role, ttl=timedelta(days=30), citizen_id=citizen.id
                    )
                    user_id += 1
                    participants.append(
                        Participant(
                            standin.person(user_id, first_name="Demo"), demo, audience, issued.token
                        )
                    )
        await session.commit()
    return participants


async def _join(participant: Participant) -> None:
    replies = await participant.person.send(f"/start {participant.token}", timeout=WAIT)
    if "Ja, jeg vil gerne være med" not in replies[0].buttons:
        raise RuntimeError(f"unexpected reply to an invite link: {replies[0].text!r}")
    await participant.person.press("Ja, jeg vil gerne være med", timeout=WAIT)


async def _all(
    work: list[Coroutine[Any, Any, None]], progress: Progress, label: str, at_once: int = 12
) -> None:
    """Run ``work`` with at most ``at_once`` people busy at a time, ticking a progress bar."""
    semaphore = asyncio.Semaphore(at_once)

    async def limited(coroutine: Coroutine[Any, Any, None]) -> None:
        async with semaphore:
            await coroutine

    task = progress.add_task(label, total=len(work))
    running = [asyncio.ensure_future(limited(c)) for c in work]
    try:
        for done in asyncio.as_completed(running):
            await done
            progress.advance(task)
    finally:
        for future in running:
            future.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def print_table(report: Report, console: Console) -> None:
    """Theme x unit, per audience: the share positive, or why it is hidden."""
    for audience in report.audiences:
        title = "Borgere" if audience == Audience.CITIZEN else "Pårørende"
        table = Table(title=f"{title}: andel positive svar (top-2), {report.selection.label}")
        table.add_column("Tema / mål")
        for unit in report.units:
            table.add_column(unit.name, justify="right")
        table.add_column("Hele kommunen", justify="right")
        for key in report.keys:
            if key.audience != audience or key.kind not in (
                FigureKind.THEME,
                FigureKind.TILS,
                FigureKind.RESPONSE,
            ):
                continue
            label = subject_label(report, key)
            if key.higher_is_worse:
                label += " (højere er værre)"
            cells = []
            for unit_id in [*(u.id for u in report.units), None]:
                figure = report.figure(key, unit_id)
                if figure is None:
                    cells.append("")
                elif figure.values is None or figure.values.share is None:
                    cells.append(suppressed_text(figure))
                else:
                    cells.append(percent(figure.values.share.p))
            table.add_row(label, *cells)
        console.print(table)


async def _start_bot(standin: BotAPIStandIn, database_url: str, output: Path) -> Process:
    """`pejling run`, the production process, against the stand-in: long polling, the
    sender and the scheduler, in a process of its own (a core of its own, too). Only the
    sender's tick is faster. Its log goes to bot.log in the output folder."""
    settings = {
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": database_url,
        "TELEGRAM_API_URL": standin.url,
        "BOT_USERNAME": BOT_USERNAME,
        "MUNICIPALITY": "Demrup Kommune",
        "CONTACT": "Ældreservice, tlf. 70 00 00 00",
        "SEND_RATE": "300",
        "SENDER_INTERVAL_SECONDS": "0.2",
        "CONTACT_HOURS": "00-24",
        "LOG_LEVEL": "WARNING",
    }
    # None of the caller's own Pejling settings: the demo never touches a real bot.
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SOURCE_ROOT, env.get("PYTHONPATH")]))
    env.update(settings)
    with (output / "bot.log").open("ab") as log:
        # In the empty output folder, so no .env file of the caller's is read either.
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=output,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


async def _stop_bot(process: Process, output: Path) -> None:
    """SIGTERM, as a service manager stops it: the bot finishes what is in flight."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise RuntimeError(
                f"the bot did not stop on SIGTERM; see {output / 'bot.log'}"
            ) from None
    if process.returncode not in (0, -signal.SIGTERM):
        raise RuntimeError(
            f"the bot stopped with exit code {process.returncode}; see {output / 'bot.log'}"
        )


async def _while_bot_runs(work: Awaitable[T], process: Process, output: Path) -> T:
    """``work``, failing at once (not after every simulated person's timeout) if the bot
    process stops before it is done."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(process.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            tail = (output / "bot.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the bot stopped (exit code {process.returncode}):\n{tail}")
        return task.result()
    finally:
        stopped.cancel()


async def run_demo(
    output: Path, *, seed: int = 2026, size: float = 1.0, console: Console | None = None
) -> DemoResult:
    """Run the whole demo and write its files to ``output`` (an existing, empty folder)."""
    console = console or Console()
    rng = random.Random(seed)
    survey = load_surveys()["standard"]
    database_url = f"sqlite+aiosqlite:///{output / 'demo.db'}"
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            sessions = session_factory(engine)
            bot = await _start_bot(standin, database_url, output)
            try:
                result = await _while_bot_runs(
                    _simulate(standin, sessions, survey, rng, size, output, console), bot, output
                )
            finally:
                await _stop_bot(bot, output)
            async with sessions() as session:
                await rounds.close_round(session, result.round_id)
                await session.commit()
                result.report = await compute_report(
                    session, await round_selection(session, result.round_id)
                )
        finally:
            await engine.dispose()
    assert result.report is not None
    _write_outputs(result, result.report)
    print_table(result.report, console)
    console.print(
        f"\n{result.invited} inviteret, {result.finished} svarede færdigt, "
        f"{result.stopped_half_way} stoppede halvvejs."
    )
    return result


async def _simulate(
    standin: BotAPIStandIn,
    sessions: async_sessionmaker[AsyncSession],
    survey: Survey,
    rng: random.Random,
    size: float,
    output: Path,
    console: Console,
) -> DemoResult:
    """The municipality sets up, people join, a round starts, and they answer."""
    result = DemoResult(output=output)
    participants = await _populate(sessions, standin, rng, size)
    await standin.wait_until_polling(timeout=WAIT)
    with Progress(console=console, transient=False) as progress:
        await _all([_join(p) for p in participants], progress, "Deltagere tilmelder sig")
        async with sessions() as session:
            units = [await people.find_unit(session, u.name) for u in UNITS]
            round_, invited = await rounds.start_round(
                session, survey, units, RoundAudience.BOTH, utcnow() + timedelta(days=14)
            )
            await session.commit()
        result.round_id, result.invited = round_.id, invited
        seeds = [rng.randrange(2**32) for _ in participants]
        await _all(
            [
                _answer(standin, p, survey, random.Random(seed), result)
                for p, seed in zip(participants, seeds, strict=True)
            ],
            progress,
            "Spørgeskemaer besvares",
        )
    return result


def list_outputs(output: Path, console: Console) -> None:
    """Name the files the demo wrote."""
    console.print(f"Filerne ligger i [bold]{output}[/bold]:")
    for path in sorted(output.rglob("*")):
        if path.is_file() and path.name != "demo.db":
            console.print(f"  {path.relative_to(output)}")


def _write_outputs(result: DemoResult, report: Report) -> None:
    output = result.output
    write_xlsx(report, output / "pejling-demo.xlsx")
    (output / "pejling-demo.csv").write_bytes(csv_bytes(report))
    charts = output / "grafer"
    charts.mkdir(exist_ok=True)
    for name, png in theme_charts(report):
        (charts / name).write_bytes(png)
    with open(output / "simulerede-svar.csv", "w", newline="", encoding="utf-8") as raw:
        writer = csv.writer(raw, delimiter=";")
        writer.writerow(["enhed", "målgruppe", "spørgsmål", "art", "værdi"])
        for pressed in result.answers:
            writer.writerow(
                [pressed.unit, pressed.audience, pressed.item, pressed.kind, pressed.value or ""]
            )
