"""`pejling demo`: a whole round on this machine, with no token and no internet.

The packaged Bot API stand-in plays Telegram; a few hundred simulated citizens and
relatives join by their invite links, get their invitations from the real sender and
scheduler, and answer through the real dispatcher over HTTP: the bot is `pejling run`,
the production process, in a process of its own. About a quarter of them have no
Telegram: they open their letter's web link and answer on the web pages, which the same
process serves (WEB_PORT), over HTTP too. With realistic variation (some stop half-way,
some press "Ved ikke" or Back; one unit is too small to report). Then the indicators and
the figures by channel are printed and the exports written. Only the clocks run faster.
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import signal
import sys
from asyncio.subprocess import Process
from collections import Counter
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
from demo.browser import Page, WebPerson, free_port, wait_until_served
from standin import BotAPIStandIn, Person
from storage.db import create_engine, session_factory
from storage.enums import Audience, Channel
from storage.migrate import upgrade
from storage.models import DeliveryStatus, InviteRole, RoundAudience
from storage.types import utcnow
from surveys.exports.charts import theme_charts
from surveys.exports.csv import csv_bytes
from surveys.exports.labels import percent, subject_label, suppressed_text
from surveys.exports.xlsx import write_xlsx
from surveys.fieldwork import rounds
from surveys.fieldwork.tallies import answer_groups, delivery_groups
from surveys.indicators import FigureKind, Report, compute_report, round_selection
from surveys.questionnaire.loader import load_surveys
from surveys.questionnaire.schema import Scale, Survey
from surveys.registry import people
from surveys.registry.invites import issue_invites, web_link

T = TypeVar("T")
# Where the bot package is, so the bot process finds it however Pejling was installed.
SOURCE_ROOT = str(Path(__file__).resolve().parent.parent)

TOKEN = "424242:DEMO-not-a-real-token-0123456789"
BOT_USERNAME = "pejling_demo_bot"
# How long a simulated person waits for the bot before the demo calls it broken.
WAIT = 60.0
# The web pages' secrets of the demo's bot process (made up; never a real deployment's).
LINK_SECRET = "demo-link-secret-not-for-real-use-0123456789"
WEB_SESSION_SECRET = "demo-session-secret-not-for-real-use-0123456"
# The share of people who answer on the web pages (no Telegram) rather than in the chat.
WEB_SHARE = 0.25


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
    channel: str = Channel.TELEGRAM


@dataclass
class DemoResult:
    output: Path
    round_id: int = 0
    invited: int = 0
    report: Report | None = None
    answers: list[Pressed] = field(default_factory=list)
    finished: int = 0
    stopped_half_way: int = 0
    web_people: int = 0
    went_back: int = 0  # web people who pressed Back and answered again
    channels: ChannelFigures | None = None


@dataclass(frozen=True)
class ChannelFigures:
    """The round's figures by channel, as the database holds them."""

    invited: int  # everyone with a delivery in the round
    completed: dict[str, int]  # completed questionnaires by the channel they finished on
    answers: dict[str, int]  # stored answers by the channel they came by

    @property
    def web_share(self) -> float:
        """The share of completed questionnaires completed on the web pages."""
        total = sum(self.completed.values())
        return self.completed.get(Channel.WEB, 0) / total if total else 0.0


@dataclass(frozen=True)
class Participant:
    unit: DemoUnit
    audience: Audience
    token: str
    person: Person | None = None  # in Telegram
    link: str | None = None  # the letter's web link, for those who answer on the web


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
    assert person is not None
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


async def _answer_on_web(
    participant: Participant,
    survey: Survey,
    rng: random.Random,
    result: DemoResult,
    public_url: str,
) -> None:
    """A person without Telegram: the letter's link in a browser, the information, one
    question page after another (forms sent as the page holds them), sometimes Back,
    sometimes a comment, sometimes only half way."""
    assert participant.link is not None
    unit, audience = participant.unit, participant.audience
    given: dict[str, Pressed] = {}  # by item: an answer given again after Back replaces it
    async with WebPerson(public_url, timeout=WAIT) as browser:
        page = await browser.open(participant.link)
        _expect(page, "/svar/velkommen", "Svar her" in page.links)
        page = await browser.follow("Svar her")
        page = await browser.press("Ja, jeg vil gerne være med")
        items = survey.items_for(audience, unit.kind)
        stop_after = rng.randrange(1, len(items)) if rng.random() < 0.12 else None
        index, back_once = 0, False
        while index < len(items):
            if stop_after is not None and index == stop_after:
                result.stopped_half_way += 1
                result.answers.extend(given.values())
                return
            _expect(page, "/svar", page.progress == f"Spørgsmål {index + 1} af {len(items)}")
            if index > 0 and not back_once and rng.random() < 0.1:
                page = await browser.press("⬅️ Tilbage")
                index, back_once = index - 1, True
                result.went_back += 1
                continue
            back_once = False
            item = items[index]
            scale = survey.scale_of(item)
            roll = rng.random()
            position: int | None = None
            if roll < 0.07:
                words, kind = "Ved ikke", "dont_know"
            elif roll < 0.10:
                words, kind = "Spring over", "skip"
            else:
                position = choose(scale, unit.quality, rng)
                words, kind = button_text(scale, position), "value"
            page = await browser.press(words)
            given[item.id] = Pressed(unit.name, audience, item.id, kind, position, Channel.WEB)
            index += 1
        if rng.random() < 0.15:
            page = await browser.press(
                "Send kommentaren, og afslut", {"kommentar": rng.choice(COMMENTS)}
            )
        else:
            page = await browser.press("Nej tak, afslut")
        _expect(page, "/svar", page.h1.startswith("Tak for dine svar"))
    result.answers.extend(given.values())
    result.finished += 1


def _expect(page: Page, path: str, condition: bool) -> None:
    """The web person saw what they should have, or the demo stops and says what."""
    if page.status != 200 or not page.url.endswith(path) or not condition:
        raise RuntimeError(
            f"unexpected web page {page.url} (HTTP {page.status}): {page.h1!r} "
            f"{page.progress!r} {page.buttons()}"
        )


async def _populate(
    sessions: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    rng: random.Random,
    size: float,
    public_url: str,
) -> list[Participant]:
    """Units, citizens and invites as the municipality would make them; people join, in
    Telegram, or (a quarter) later on the web pages with the link in their letter."""
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
                    if rng.random() < WEB_SHARE:
                        # A printed letter: its token and code derived from LINK_SECRET.
                        [issued] = await issue_invites(
                            session,
                            role,
                            ttl=timedelta(days=30),
                            citizen_id=citizen.id,
                            secret=LINK_SECRET.encode(),
                        )
                        link = web_link(public_url, issued.token)
                        participants.append(Participant(demo, audience, issued.token, link=link))
                        continue
                    [issued] = await issue_invites(
                        session, role, ttl=timedelta(days=30), citizen_id=citizen.id
                    )
                    user_id += 1
                    person = standin.person(user_id, first_name="Demo")
                    participants.append(Participant(demo, audience, issued.token, person=person))
        await session.commit()
    return participants


async def _join(participant: Participant) -> None:
    assert participant.person is not None
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


CHANNEL_NAMES = {Channel.TELEGRAM: "Telegram", Channel.WEB: "Web"}


def print_channels(channels: ChannelFigures, console: Console) -> None:
    """Completed questionnaires and answers by channel, and the web's share."""
    table = Table(title="Svar efter kanal")
    table.add_column("Kanal")
    table.add_column("Gennemførte spørgeskemaer", justify="right")
    table.add_column("Svar", justify="right")
    for channel, name in CHANNEL_NAMES.items():
        table.add_row(
            name,
            str(channels.completed.get(channel, 0)),
            str(channels.answers.get(channel, 0)),
        )
    console.print(table)
    console.print(
        f"Andel der svarede færdigt på web: {percent(channels.web_share)} "
        f"({channels.completed.get(Channel.WEB, 0)} af {sum(channels.completed.values())})."
    )


async def channel_figures(session: AsyncSession, survey: Survey, round_id: int) -> ChannelFigures:
    """The round's deliveries and answers counted by channel, by the same queries the
    round's tally is counted with."""
    invited, completed, answers = 0, Counter[str](), Counter[str]()
    for row in (await session.execute(delivery_groups([round_id], by_channel=True))).mappings():
        invited += row["count"]
        if row["status"] == DeliveryStatus.COMPLETED:
            completed[row["channel"]] += row["count"]
    groups = answer_groups(survey, [round_id], by_channel=True)
    for row in (await session.execute(groups)).mappings():
        answers[row["channel"]] += row["count"]
    return ChannelFigures(invited, dict(completed), dict(answers))


async def _start_bot(
    standin: BotAPIStandIn, database_url: str, output: Path, web_port: int
) -> Process:
    """`pejling run`, the production process, against the stand-in: long polling, the
    sender, the scheduler and the web pages on loopback ``web_port``, in a process of its
    own (a core of its own, too). Only the sender's tick is faster. Its log goes to
    bot.log in the output folder."""
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
        # The web pages, on this machine only; letters' links are derived from LINK_SECRET.
        "WEBHOOK_HOST": "127.0.0.1",
        "WEB_PORT": str(web_port),
        "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "LINK_SECRET": LINK_SECRET,
        "WEB_SESSION_SECRET": WEB_SESSION_SECRET,
        "HEALTH_PORT": "0",  # not needed here, and never a clash with another process
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
    web_port = free_port()
    public_url = f"http://127.0.0.1:{web_port}"
    async with BotAPIStandIn(token=TOKEN, bot_username=BOT_USERNAME) as standin:
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            sessions = session_factory(engine)
            bot = await _start_bot(standin, database_url, output, web_port)
            try:
                result = await _while_bot_runs(
                    _simulate(standin, sessions, survey, rng, size, output, console, public_url),
                    bot,
                    output,
                )
            finally:
                await _stop_bot(bot, output)
            async with sessions() as session:
                await rounds.close_round(session, result.round_id)
                await session.commit()
                result.report = await compute_report(
                    session, await round_selection(session, result.round_id)
                )
                result.channels = await channel_figures(session, survey, result.round_id)
        finally:
            await engine.dispose()
    assert result.report is not None and result.channels is not None
    # Web people are invited by letter: they enter the round when they open its link.
    result.invited = result.channels.invited
    _write_outputs(result, result.report)
    print_table(result.report, console)
    print_channels(result.channels, console)
    console.print(
        f"\n{result.invited} inviteret ({result.web_people} med brev og weblink), "
        f"{result.finished} svarede færdigt, {result.stopped_half_way} stoppede halvvejs."
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
    public_url: str,
) -> DemoResult:
    """The municipality sets up and prints letters, Telegram users join, a round starts,
    and everyone answers: in the chat, or with the letter's link on the web pages."""
    result = DemoResult(output=output)
    participants = await _populate(sessions, standin, rng, size, public_url)
    result.web_people = sum(1 for p in participants if p.person is None)
    await standin.wait_until_polling(timeout=WAIT)
    await wait_until_served(public_url, timeout=WAIT)
    with Progress(console=console, transient=False) as progress:
        await _all(
            [_join(p) for p in participants if p.person is not None],
            progress,
            "Deltagere tilmelder sig",
        )
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
                if p.person is not None
                else _answer_on_web(p, survey, random.Random(seed), result, public_url)
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
        writer.writerow(["enhed", "målgruppe", "spørgsmål", "art", "værdi", "kanal"])
        for pressed in result.answers:
            writer.writerow(
                [
                    pressed.unit,
                    pressed.audience,
                    pressed.item,
                    pressed.kind,
                    pressed.value or "",
                    pressed.channel,
                ]
            )
