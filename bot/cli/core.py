"""The basic subcommands: run, db, unit, citizen, invite, survey, round."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.base import CommandLineError, Subcommands
from bot.config import Settings, SettingsError
from storage.db import create_engine, session_factory
from storage.migrate import prepare, upgrade
from storage.models import Delivery, InviteRole, Round, RoundAudience, SurveyVersion
from surveys.clock import DANISH_TIME
from surveys.fieldwork import care_events, rounds, schedules
from surveys.privacy import retention
from surveys.questionnaire.loader import load_survey, load_surveys
from surveys.questionnaire.translation import missing_translations
from surveys.registry import people
from surveys.registry.invites import deep_link, issue_invites

DURATION = re.compile(r"^(\d{1,3})([dhw])$")
CITIZEN_HELP = (
    "the citizen's reference (external_ref) or id; id:N or ref:X where a number could be either"
)


def parse_closes(value: str, now: datetime | None = None) -> datetime:
    """`14d`, `36h`, `2w` from now, or a date (YYYY-MM-DD, end of that day, Danish time)."""
    now = now or datetime.now(UTC)
    match = DURATION.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = {"d": timedelta(days=amount), "h": timedelta(hours=amount)}.get(
            unit, timedelta(weeks=amount)
        )
        return now + delta
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d")
    except ValueError:
        raise CommandLineError(
            f"--closes {value!r}: use a duration such as 14d, 36h or 2w, or a date YYYY-MM-DD"
        ) from None
    return day.replace(hour=23, minute=59, tzinfo=DANISH_TIME).astimezone(UTC)


def parse_reminders(value: str) -> list[int]:
    """'3,7' -> [3, 7]; 'none' -> []."""
    if value.strip().lower() in ("none", "0", ""):
        return []
    try:
        return [int(part) for part in value.split(",")]
    except ValueError:
        raise CommandLineError(f"--remind {value!r}: use days such as 3,7 or none") from None


async def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    engine = create_engine(settings.database_url)
    try:
        await prepare(engine)
        async with session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def _bot_username(settings: Settings) -> str:
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    # aiogram takes seconds to import; only the commands that talk to Telegram pay for it.
    from aiogram.exceptions import TelegramAPIError
    from aiohttp import ClientError

    from bot.app import build_bot

    bot = build_bot(settings)
    try:
        me = await bot.get_me()
    except (TelegramAPIError, ClientError, OSError) as error:
        raise SettingsError(
            f"BOT_USERNAME: not set, and Telegram could not be asked ({error})"
        ) from None
    finally:
        await bot.session.close()
    assert me.username is not None
    return me.username


# ---------------------------------------------------------------- commands


def cmd_run(args: argparse.Namespace, settings: Settings) -> None:
    from bot.app import main as serve

    serve(settings, webhook=args.webhook)


def cmd_web(args: argparse.Namespace, settings: Settings) -> None:
    # The composition root starts the browser edge; bot/ imports nothing else of web/.
    from web.server import main as serve_web

    serve_web(settings)


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> None:
    async def go() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
    print("database is up to date")


def cmd_unit_add(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> int:
        return (await people.add_unit(session, args.name, args.kind)).id

    print(asyncio.run(_with_session(settings, go)))


def cmd_unit_list(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> list[str]:
        return [f"{u.id}\t{u.kind}\t{u.name}" for u in await people.list_units(session)]

    for line in asyncio.run(_with_session(settings, go)):
        print(line)


def cmd_citizen_add(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> int:
        unit = await people.find_unit(session, args.unit)
        return (await people.add_citizen(session, unit, args.name)).id

    print(asyncio.run(_with_session(settings, go)))


def cmd_citizen_list(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> list[str]:
        unit = await people.find_unit(session, args.unit) if args.unit else None
        return [
            "\t".join(
                [str(c.id), c.external_ref or "-", c.first_name or "-", c.status, c.unit.name]
            )
            for c in await people.list_citizens(session, unit)
        ]

    print("id\treference\tfirst_name\tstatus\tunit")
    for line in asyncio.run(_with_session(settings, go)):
        print(line)


def cmd_invite(args: argparse.Namespace, settings: Settings) -> None:
    role = InviteRole(args.role)
    username = asyncio.run(_bot_username(settings))

    async def go(session: AsyncSession) -> list[str]:
        unit_id = citizen_id = None
        if role == InviteRole.STAFF:
            unit_id = (await people.find_unit(session, args.unit)).id
        if role in (InviteRole.CITIZEN, InviteRole.RELATIVE):
            citizen_id = (await people.find_citizen(session, args.citizen)).id
        issued = await issue_invites(
            session,
            role,
            ttl=settings.invite_ttl,
            count=getattr(args, "count", 1) or 1,
            unit_id=unit_id,
            citizen_id=citizen_id,
        )
        return [deep_link(username, invite.token) for invite in issued]

    for link in asyncio.run(_with_session(settings, go)):
        print(link)


def cmd_survey_list(args: argparse.Namespace, settings: Settings) -> None:
    for survey in load_surveys().values():
        audiences = ",".join(a.value for a in survey.audiences)
        print(f"{survey.id}\tv{survey.version}\t{audiences}\t{len(survey.items)} items")


def cmd_survey_check(args: argparse.Namespace, settings: Settings) -> None:
    survey = load_survey(Path(args.file))
    missing = missing_translations(survey, "en")
    for text in missing:
        print(f"{args.file}: no English translation for {text!r}", file=sys.stderr)
    if missing:
        raise CommandLineError(
            f"{args.file}: {len(missing)} text(s) lack an English translation; English "
            "speakers would see them in Danish (add them to locale/en/LC_MESSAGES/pejling.po)"
        )
    print(f"{args.file}: survey {survey.id!r} version {survey.version} is valid")


def cmd_round_start(args: argparse.Namespace, settings: Settings) -> None:
    surveys = load_surveys()
    if args.survey not in surveys:
        raise CommandLineError(f"unknown survey {args.survey!r}: known are {', '.join(surveys)}")
    closes = parse_closes(args.closes)

    async def go(session: AsyncSession) -> tuple[int, int]:
        units = [await people.find_unit(session, ref) for ref in args.unit]
        round_, invited = await rounds.start_round(
            session,
            surveys[args.survey],
            units,
            RoundAudience(args.audience),
            closes,
            reminder_days=parse_reminders(args.remind),
        )
        return round_.id, invited

    round_id, invited = asyncio.run(_with_session(settings, go))
    print(round_id)
    print(
        f"round {round_id}: {invited} invited now; people who join later get it too",
        file=sys.stderr,
    )


def cmd_round_list(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> list[str]:
        rows = await session.execute(
            select(Round, SurveyVersion.survey_id, func.count(Delivery.id))
            .join(SurveyVersion, SurveyVersion.id == Round.survey_version_id)
            .outerjoin(Delivery, Delivery.round_id == Round.id)
            .group_by(Round.id, SurveyVersion.survey_id)
            .order_by(Round.id)
        )
        lines = []
        for round_, survey_id, invited in rows:
            state = "closed" if round_.closed_at else "open"
            lines.append(
                f"{round_.id}\t{survey_id}\t{round_.audience}\t{state}\t"
                f"closes {round_.closes_at:%Y-%m-%d %H:%M} UTC\t{invited} invited"
            )
        return lines

    for line in asyncio.run(_with_session(settings, go)):
        print(line)


def cmd_round_status(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> rounds.RoundStatus:
        return await rounds.round_status(session, args.id)

    status = asyncio.run(_with_session(settings, go))
    state = "closed" if status.closed else "open"
    print(
        f"round {status.round_id} ({status.survey_id}, {status.audience}, {state}, "
        f"closes {status.closes_at:%Y-%m-%d %H:%M} UTC): {', '.join(status.unit_names)}"
    )
    for label, value in (
        ("invited", status.invited),
        ("waiting", status.waiting),
        ("sent", status.sent),
        ("started", status.started),
        ("completed", status.completed),
        ("failed", status.failed),
        ("cancelled", status.cancelled),
    ):
        print(f"{label}\t{value}")


def cmd_citizen_leave(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> tuple[int, str | None, int]:
        citizen = await people.find_citizen(session, args.citizen)
        cancelled = await care_events.citizen_left(session, citizen.id, args.reason)
        return citizen.id, citizen.external_ref, cancelled

    citizen_id, ref, cancelled = asyncio.run(_with_session(settings, go))
    named = f"citizen {citizen_id}" + (f" (reference {ref})" if ref else "")
    print(f"{named} has {args.reason}; {cancelled} unfinished survey(s) stopped")


def cmd_schedule_add(args: argparse.Namespace, settings: Settings) -> None:
    surveys = load_surveys()
    if args.survey not in surveys:
        raise CommandLineError(f"unknown survey {args.survey!r}: known are {', '.join(surveys)}")

    async def go(session: AsyncSession) -> tuple[int, datetime]:
        units = [await people.find_unit(session, ref) for ref in args.unit]
        schedule = await schedules.add_schedule(
            session,
            surveys[args.survey],
            units,
            RoundAudience(args.audience),
            args.every,
            open_days=args.open_days,
        )
        return schedule.id, schedule.next_run_at

    schedule_id, first = asyncio.run(_with_session(settings, go))
    print(schedule_id)
    print(f"schedule {schedule_id}: first round {first:%Y-%m-%d %H:%M} UTC", file=sys.stderr)


def cmd_schedule_list(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> list[str]:
        return [
            f"{s.id}\t{s.survey_id}\t{s.audience}\tevery {s.every}\t"
            f"next {s.next_run_at:%Y-%m-%d %H:%M} UTC\t{', '.join(u.name for u in s.units)}"
            for s in await schedules.list_schedules(session)
        ]

    for line in asyncio.run(_with_session(settings, go)):
        print(line)


def cmd_schedule_remove(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> None:
        await schedules.remove_schedule(session, args.id)

    asyncio.run(_with_session(settings, go))
    print(f"schedule {args.id} removed")


def cmd_purge(args: argparse.Namespace, settings: Settings) -> None:
    months = args.months or settings.retention_months

    async def go(session: AsyncSession) -> retention.PurgeReport:
        return await retention.purge(session, retention_months=months)

    report = asyncio.run(_with_session(settings, go))
    print(
        f"purged data older than {months} months: {report.rounds} old round(s) "
        f"({report.tallied} tallied first), {report.deliveries} delivery(ies), "
        f"{report.answers} answer(s), {report.comments} comment(s), "
        f"{report.respondents} respondent(s), {report.accounts} Telegram account(s), "
        f"{report.citizens} citizen name(s), {report.invites} invite(s)"
    )


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    # The demo needs no settings and no token; it brings its own stand-in and database.
    from rich.console import Console

    from demo.run import list_outputs, run_demo

    output = Path(args.output or f"pejling-demo-{datetime.now():%Y%m%d-%H%M%S}").resolve()
    if output.exists() and any(output.iterdir()):
        raise CommandLineError(f"{output} is not empty; name a new folder with -o")
    output.mkdir(parents=True, exist_ok=True)
    # The table and the progress bar are the demo's output; the bot's log would bury them.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    console = Console()
    asyncio.run(run_demo(output, seed=args.seed, console=console))
    list_outputs(output, console)


def cmd_round_close(args: argparse.Namespace, settings: Settings) -> None:
    async def go(session: AsyncSession) -> None:
        await rounds.close_round(session, args.id)

    asyncio.run(_with_session(settings, go))
    print(f"round {args.id} is closed")


# ---------------------------------------------------------------- the parser


def register(sub: Subcommands) -> None:
    """Add this module's subcommands to `pejling`."""

    run = sub.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook", action="store_true", help="serve Telegram's webhook (WEBHOOK_URL, _SECRET)"
    )
    run.set_defaults(func=cmd_run)

    web = sub.add_parser(
        "web", help="serve the web pages alone (WEB_PORT; needs WEB_SESSION_SECRET)"
    )
    web.set_defaults(func=cmd_web)

    demo = sub.add_parser("demo", help="a whole round on this machine, no token needed")
    demo.add_argument("-o", "--output", help="the folder for the results (must be new or empty)")
    demo.add_argument("--seed", type=int, default=2026, help="the simulation's random seed")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="the database").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="migrate to the newest schema").set_defaults(func=cmd_db_upgrade)

    unit = sub.add_parser("unit", help="care units").add_subparsers(dest="unit", required=True)
    add = unit.add_parser("add", help="add a unit; prints its id")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=["care_home", "home_care"])
    add.set_defaults(func=cmd_unit_add)
    unit.add_parser("list", help="list the units").set_defaults(func=cmd_unit_list)

    citizen = sub.add_parser("citizen", help="citizens").add_subparsers(
        dest="citizen", required=True
    )
    cadd = citizen.add_parser("add", help="add a citizen; prints their id")
    cadd.add_argument("--unit", required=True, help="unit id or name")
    cadd.add_argument("--name", help="first name, used in relatives' questions")
    cadd.set_defaults(func=cmd_citizen_add)
    clist = citizen.add_parser(
        "list", help="the citizens: id, reference, first name, status and unit"
    )
    clist.add_argument("--unit", help="only this unit (id or name)")
    clist.set_defaults(func=cmd_citizen_list)
    leave = citizen.add_parser("leave", help="the citizen moved or died: stop their surveys")
    leave.add_argument("citizen", metavar="CITIZEN", help=CITIZEN_HELP)
    leave.add_argument("--reason", required=True, choices=["moved", "died"])
    leave.set_defaults(func=cmd_citizen_leave)

    purge = sub.add_parser("purge", help="delete identifiable data past the retention period")
    purge.add_argument("--months", type=int, help="retention in months (default: RETENTION_MONTHS)")
    purge.set_defaults(func=cmd_purge)

    schedule = sub.add_parser("schedule", help="recurring rounds").add_subparsers(
        dest="schedule", required=True
    )
    sadd = schedule.add_parser("add", help="start a round by itself at regular times")
    sadd.add_argument("--survey", required=True)
    sadd.add_argument("--unit", required=True, action="append", help="unit id or name")
    sadd.add_argument("--audience", required=True, choices=[a.value for a in RoundAudience])
    sadd.add_argument("--every", required=True, help="month, quarter or a cron expression")
    sadd.add_argument("--open-days", type=int, default=14, help="days each round stays open")
    sadd.set_defaults(func=cmd_schedule_add)
    schedule.add_parser("list", help="the schedules").set_defaults(func=cmd_schedule_list)
    sremove = schedule.add_parser("remove", help="remove a schedule")
    sremove.add_argument("id", type=int)
    sremove.set_defaults(func=cmd_schedule_remove)

    invite = sub.add_parser("invite", help="print invite links").add_subparsers(
        dest="role", required=True
    )
    for role in ("citizen", "relative"):
        p = invite.add_parser(role, help=f"invite links for a {role}")
        p.add_argument("--citizen", required=True, help=CITIZEN_HELP)
        p.add_argument("--count", type=int, default=1, help="how many links (relatives)")
        p.set_defaults(func=cmd_invite)
    staff = invite.add_parser("staff", help="an invite link for a staff member of a unit")
    staff.add_argument("--unit", required=True)
    staff.set_defaults(func=cmd_invite)
    invite.add_parser("coordinator", help="an invite link for a coordinator").set_defaults(
        func=cmd_invite
    )

    survey = sub.add_parser("survey", help="survey definitions").add_subparsers(
        dest="survey", required=True
    )
    survey.add_parser("list", help="the surveys shipped").set_defaults(func=cmd_survey_list)
    check = survey.add_parser("check", help="validate a survey file")
    check.add_argument("file")
    check.set_defaults(func=cmd_survey_check)

    round_ = sub.add_parser("round", help="survey rounds").add_subparsers(
        dest="round", required=True
    )
    start = round_.add_parser("start", help="open a round; prints its id")
    start.add_argument("--survey", required=True)
    start.add_argument("--unit", required=True, action="append", help="unit id or name")
    start.add_argument("--audience", required=True, choices=[a.value for a in RoundAudience])
    start.add_argument("--closes", default="14d", help="14d, 36h, 2w or YYYY-MM-DD")
    start.add_argument(
        "--remind",
        default="3,7",
        help="days after the invitation for the (at most two) reminders, e.g. 3,7; 'none'",
    )
    start.set_defaults(func=cmd_round_start)
    round_.add_parser("list", help="the rounds").set_defaults(func=cmd_round_list)
    status = round_.add_parser("status", help="invited, sent, started, completed, failed")
    status.add_argument("id", type=int)
    status.set_defaults(func=cmd_round_status)
    close = round_.add_parser("close", help="close a round now")
    close.add_argument("id", type=int)
    close.set_defaults(func=cmd_round_close)
