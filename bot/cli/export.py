"""`pejling export`: indicators of a round or a period as XLSX, CSV or PNG charts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.base import CommandLineError, Subcommands
from bot.cli.core import _with_session
from bot.config import Settings
from surveys.indicators import Report, compute_report, period_selection, round_selection
from surveys.registry import people


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def cmd_export(args: argparse.Namespace, settings: Settings) -> None:
    if args.round is None and (args.from_ is None or args.to is None):
        raise CommandLineError("give --round ID, or both --from DATE and --to DATE")

    async def go(session: AsyncSession) -> Report:
        if args.round is not None:
            selection = await round_selection(session, args.round)
        else:
            selection = await period_selection(session, args.from_, args.to)
        unit_ids = None
        if args.unit:
            unit_ids = [(await people.find_unit(session, ref)).id for ref in args.unit]
        return await compute_report(
            session, selection, unit_ids=unit_ids, comments=not args.no_comments
        )

    report = asyncio.run(_with_session(settings, go))
    # The writers load here: every `pejling` command (`run` too) registers this one.
    from surveys.exports.charts import theme_charts
    from surveys.exports.csv import write_csv
    from surveys.exports.xlsx import write_xlsx

    target = Path(args.output)
    if args.format == "xlsx":
        write_xlsx(report, target)
        written = [target]
    elif args.format == "csv":
        with target.open("w", encoding="utf-8", newline="") as out:
            write_csv(report, out, comma=args.comma)
        written = [target]
    else:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, png in theme_charts(report):
            (target / name).write_bytes(png)
            written.append(target / name)
    for path in written:
        print(path)
    print(f"{report.selection.label}: {len(written)} file(s) written", file=sys.stderr)


def register(sub: Subcommands) -> None:
    """Add `pejling export`."""
    export = sub.add_parser(
        "export",
        help="indicators as XLSX, CSV or PNG charts",
        description="Quality indicators of a round or a period, with small numbers hidden.",
    )
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--round", type=int, help="a round's id")
    which.add_argument("--from", dest="from_", type=_date, help="first day (YYYY-MM-DD)")
    export.add_argument("--to", type=_date, help="last day (YYYY-MM-DD), with --from")
    export.add_argument(
        "--unit", action="append", help="show only this unit (id or name); may be repeated"
    )
    export.add_argument("--format", required=True, choices=["xlsx", "csv", "png"])
    export.add_argument(
        "-o", "--output", required=True, help="the file to write (for png: a folder)"
    )
    export.add_argument(
        "--comma", action="store_true", help="CSV with commas and decimal points (R, Power BI)"
    )
    export.add_argument("--no-comments", action="store_true", help="leave free-text comments out")
    export.set_defaults(func=cmd_export)
