"""What the subcommand modules share."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# The object returned by ArgumentParser.add_subparsers().
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
