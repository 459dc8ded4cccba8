"""`pejling`: the one console command. Each module of bot/cli/ registers its subcommands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from bot.cli import core, export, people_files
from bot.cli.base import CommandLineError
from bot.config import SettingsError, load_settings
from bot.logs import setup_logging
from storage.migrate import SchemaOutOfDate
from surveys.errors import PejlingError
from surveys.questionnaire.loader import SurveyFileError

MODULES = (core, people_files, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pejling", description="Telegram surveys of user-experienced quality in elder care"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: one clear line and a non-zero exit for any error a person can cause."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        setup_logging(settings.log_level, settings.log_format)
        # Migration chatter belongs to `db upgrade` and `run`, not to every command's output.
        if args.command not in ("run", "web", "db"):
            logging.getLogger("alembic").setLevel(logging.WARNING)
        args.func(args, settings)
    except (
        CommandLineError,
        PejlingError,
        SettingsError,
        SurveyFileError,
        SchemaOutOfDate,
    ) as error:
        print(f"pejling: {error}", file=sys.stderr)
        return 2
    except (OSError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"pejling: DATABASE_URL: cannot use the database ({reason})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
