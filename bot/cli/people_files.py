"""Files the municipality hands in and gets out: `import units|citizens`, `invite letters`,
`invite reminders`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.base import CommandLineError, Subcommands
from bot.cli.core import _bot_username, _with_session
from bot.config import Settings
from storage.models import InviteRole, RoundAudience
from surveys.letters import invitations as letters
from surveys.letters.reminders import ReminderBatch as reminders_batch
from surveys.letters.reminders import reminder_letters
from surveys.questionnaire.translation import LOCALES, SOURCE_LOCALE
from surveys.registry import importing, people

# ---------------------------------------------------------------- import


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CommandLineError(f"{path}: cannot read the file ({error.strerror})") from None


def cmd_import(args: argparse.Namespace, settings: Settings) -> None:
    data = _read(args.file)
    work = importing.import_units if args.what == "units" else importing.import_citizens

    async def go(session: AsyncSession) -> importing.ImportResult:
        return await work(session, data, source=args.file, skip_bad_rows=args.skip_bad_rows)

    result = asyncio.run(_with_session(settings, go))
    for note in result.left:
        print(note, file=sys.stderr)
    for bad in result.bad_rows:
        print(bad, file=sys.stderr)
    if not result.written:
        raise CommandLineError(
            f"{args.file}: {len(result.bad_rows)} bad row(s); nothing was imported "
            "(correct them, or import the other rows with --skip-bad-rows)"
        )
    print(result.summary())


# ---------------------------------------------------------------- letters


def cmd_letters(args: argparse.Namespace, settings: Settings) -> None:
    if not settings.contact:
        raise CommandLineError(
            "CONTACT is not set: a letter must say whom to call, "
            "e.g. CONTACT='Ældreservice, tlf. 70 11 22 33'"
        )
    public_url, secret = settings.require_letter_links()
    username = asyncio.run(_bot_username(settings))

    async def go(session: AsyncSession) -> tuple[str, letters.LetterBatch]:
        unit = await people.find_unit(session, args.unit)
        batch = await letters.issue_letters(
            session,
            unit,
            RoundAudience(args.audience),
            bot_username=username,
            ttl=settings.invite_ttl,
            secret=secret,
            public_url=public_url,
        )
        # Written before the commit: a file that cannot be written leaves the old invites.
        _write(args.output, _render(batch, args, settings))
        return unit.name, batch

    unit_name, batch = asyncio.run(_with_session(settings, go))
    relatives = sum(1 for letter in batch.letters if letter.role == InviteRole.RELATIVE)
    print(
        f"{args.output}: {len(batch.letters)} letters for {unit_name}: "
        f"{len(batch.letters) - relatives} for citizens, {relatives} for relatives; "
        f"{batch.replaced} earlier unused invites no longer work; "
        f"{batch.already_joined} people already joined and got no new letter",
        file=sys.stderr,
    )


def cmd_reminders(args: argparse.Namespace, settings: Settings) -> None:
    if not settings.contact:
        raise CommandLineError("CONTACT is not set: a letter must say whom to call")
    public_url, secret = settings.require_letter_links()
    username = asyncio.run(_bot_username(settings))

    async def go(session: AsyncSession) -> reminders_batch:
        batch = await reminder_letters(
            session, args.round, bot_username=username, secret=secret, public_url=public_url
        )
        _write(args.output, _render(batch, args, settings))
        return batch

    batch = asyncio.run(_with_session(settings, go))
    print(
        f"{args.output}: {len(batch.letters)} reminder letters for round {args.round}: "
        f"{batch.started} for people who began without finishing, {batch.never_opened} for "
        "letters never opened (people with Telegram are reminded in the chat)",
        file=sys.stderr,
    )


def _render(
    batch: letters.LetterBatch | reminders_batch, args: argparse.Namespace, settings: Settings
) -> bytes:
    if args.format == "csv":
        return letters.letters_csv(batch.letters)
    # ReportLab and qrcode load only for the command that draws letters.
    from surveys.letters.pdf import LetterSender, render_letters_pdf

    sender = LetterSender(municipality=settings.municipality, contact=settings.contact)
    return render_letters_pdf(batch.letters, sender, args.lang)


def _write(output: str, content: bytes) -> None:
    if output == "-":
        sys.stdout.buffer.write(content)
        return
    try:
        Path(output).write_bytes(content)
    except OSError as error:
        raise CommandLineError(f"{output}: cannot write the file ({error.strerror})") from None


# ---------------------------------------------------------------- the parser


def _subcommands_of(sub: Subcommands, name: str) -> Subcommands:
    """The subcommands of a command another module registered (`invite`), so that
    `invite letters` sits beside `invite citizen`."""
    for action in sub.choices[name]._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError(f"`pejling {name}` has no subcommands")


def register(sub: Subcommands) -> None:
    """Add this module's subcommands to `pejling`."""
    import_ = sub.add_parser("import", help="import units or citizens from a CSV file")
    what = import_.add_subparsers(dest="what", required=True)
    for name, does, fields in (
        ("units", "add the new units", importing.UNIT_COLUMNS),
        ("citizens", "add, move or update citizens", importing.CITIZEN_COLUMNS),
    ):
        columns = ",".join(column.field for column in fields)
        p = what.add_parser(
            name,
            help=f"{does} of a CSV file (columns {columns})",
            description=(
                f"Columns: {columns} (English or Danish names; comma or semicolon; UTF-8). "
                "A file with a bad row changes nothing."
            ),
        )
        p.add_argument("file", help="the CSV file")
        p.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the good rows even when some rows are bad",
        )
        p.set_defaults(func=cmd_import)

    # The issue's spelling, `pejling units import FILE.csv`, beside `pejling import units`.
    units = sub.add_parser("units", help="units from a CSV file").add_subparsers(
        dest="units", required=True
    )
    unit_import = units.add_parser("import", help="the same as `pejling import units`")
    unit_import.add_argument("file", help="the CSV file")
    unit_import.add_argument("--skip-bad-rows", action="store_true")
    unit_import.set_defaults(func=cmd_import, what="units")

    letter = _subcommands_of(sub, "invite").add_parser(
        "letters", help="printable invitation letters with QR codes for a unit"
    )
    letter.add_argument("--unit", required=True, help="unit id or name")
    letter.add_argument("--audience", default="both", choices=[a.value for a in RoundAudience])
    letter.add_argument("--lang", default=SOURCE_LOCALE, choices=LOCALES)
    letter.add_argument(
        "--format", default="pdf", choices=["pdf", "csv"], help="csv: the links for mail merge"
    )
    letter.add_argument("-o", "--output", required=True, help="the file to write, or - for stdout")
    letter.set_defaults(func=cmd_letters)

    reminder = _subcommands_of(sub, "invite").add_parser(
        "reminders",
        help="printed reminders for a round's people without Telegram who have not finished",
    )
    reminder.add_argument("--round", required=True, type=int, help="the round's id")
    reminder.add_argument("--lang", default="da", choices=["da", "en"])
    reminder.add_argument(
        "--format", default="pdf", choices=["pdf", "csv"], help="csv: the links for mail merge"
    )
    reminder.add_argument(
        "-o", "--output", required=True, help="the file to write, or - for stdout"
    )
    reminder.set_defaults(func=cmd_reminders)
