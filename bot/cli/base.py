"""What the subcommand modules share."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# The object returned by ArgumentParser.add_subparsers().
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandLineError(Exception):
    """A wrong flag or file on the command line: its one English line, for the IT person who
    types the command (the domain's own errors are ``surveys.errors.PejlingError``)."""
