"""Every command `pejling --help` lists (and every subcommand under it) is in the README,
written as it is typed: `pejling citizen leave`, `pejling purge`."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from bot.cli import build_parser

README = Path(__file__).parents[1] / "README.md"


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[str]:
    """The full name of every command that does something, from the argparse tree."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield " ".join(("pejling", *path))
    for action in subcommands:
        for name, child in action.choices.items():
            yield from commands(child, (*path, name))


def test_the_tree_is_read_whole() -> None:
    found = set(commands(build_parser()))
    assert {"pejling purge", "pejling citizen list", "pejling invite letters"} <= found
    assert "pejling citizen" not in found  # a group, not a command
    assert len(found) >= 25


def test_every_command_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = sorted(name for name in commands(build_parser()) if name not in readme)
    assert missing == [], f"commands missing from README.md: {missing}"
