"""Typed settings: the token a secret, the contact hours parsed once, the log level one of
Python's; a bad value of each stops the command line with one line naming it."""

from __future__ import annotations

import os
from pathlib import Path
from unittest.mock import patch

import pytest

from bot.config import Settings, load_settings
from surveys.fieldwork.outbox import ContactHours
from tests.bot.test_cli import in_process
from tests.harness import TOKEN


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "BOT_TOKEN",
            "12345:short",
            "does not look like a bot token from BotFather (digits:letters)",
        ),
        ("CONTACT_HOURS", "9 to 19", "use HH-HH, for example 09-19 (or 00-24 for always)"),
        ("CONTACT_HOURS", "19-09", "the start must come before the end, within 00-24"),
        (
            "LOG_LEVEL",
            "LOUD",
            "Input should be 'CRITICAL', 'ERROR', 'WARNING', 'INFO' or 'DEBUG'",
        ),
    ],
)
async def test_a_bad_setting_gives_one_line_naming_it(
    tmp_path: Path, name: str, value: str, line: str
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", name: value}
    run = await in_process("unit", "list", env=env)
    assert run.code == 2
    assert run.err == f"pejling: {name}: {line}\n"


def test_the_token_is_a_secret_shown_nowhere_but_to_telegram() -> None:
    settings = Settings(bot_token=TOKEN)
    assert settings.require_token() == TOKEN
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert TOKEN not in shown
    assert "**********" in repr(settings)


def test_contact_hours_and_log_level_are_parsed_once_into_typed_values() -> None:
    environment = {"CONTACT_HOURS": "07-22", "LOG_LEVEL": "debug", "BOT_TOKEN": ""}
    with patch.dict(os.environ, environment):
        settings = load_settings()
    assert settings.contact_hours == ContactHours(7, 22)
    assert settings.log_level == "DEBUG"
    assert settings.bot_token is None
    assert Settings().contact_hours == ContactHours(9, 19)  # the default, 09-19
