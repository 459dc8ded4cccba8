"""Button payloads. Each stays far below Telegram's 64 bytes.

Callback data comes back from Telegram as the client sent it, and a client can send
anything: every field is parsed strictly, so forged data fails to parse and falls through
to the polite answer for buttons that no longer work (``routers/fallback.py``). Numbers
are ASCII digits in the shape the bot writes them (no sign, blank, underscore or leading
zero; ``str.isdigit`` would accept '³', which ``int`` refuses) and within the range a
database row id can have.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator, Field, StringConstraints

MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer
_NUMBER = re.compile(r"0|[1-9][0-9]{0,9}")


def ascii_number(text: str, maximum: int = MAX_ROW_ID) -> int | None:
    """``text`` as a number if it is one written the bot's way (ASCII digits, no leading
    zero) and at most ``maximum``; None for anything else."""
    if not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


def _strict_number(value: Any) -> Any:
    # Building a button passes ints; only text from Telegram needs the strict reading.
    if isinstance(value, str):
        if not _NUMBER.fullmatch(value):
            raise ValueError("not a number written with ASCII digits")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a number")
    return value


def _strict_flag(value: Any) -> Any:
    # aiogram packs a bool as "1" or "0"; "yes", "on" and "TRUE" are nobody's button.
    if isinstance(value, bool):
        return value
    if value in ("1", "0"):
        return value == "1"
    raise ValueError("not 1 or 0")


# A row id or question index as the database can hold it: a forged 10**12 is refused at
# the door instead of overflowing PostgreSQL's integer.
RowId = Annotated[int, BeforeValidator(_strict_number), Field(ge=0, le=MAX_ROW_ID)]
Flag = Annotated[bool, BeforeValidator(_strict_flag)]
# An option's position (1-99), "x" (don't know) or "s" (skip). The pattern is Rust's
# regex (pydantic-core): "$" is the very end, a trailing newline is not let through.
Choice = Annotated[str, StringConstraints(pattern=r"^(?:[1-9][0-9]?|x|s)$")]


class AnswerCb(CallbackData, prefix="a"):
    d: RowId  # delivery
    i: RowId  # question index the button belongs to
    v: Choice  # option position, "x" (don't know) or "s" (skip)


class BackCb(CallbackData, prefix="b"):
    d: RowId
    i: RowId


class BeginCb(CallbackData, prefix="g"):
    d: RowId


class FinishCb(CallbackData, prefix="f"):
    d: RowId
    i: RowId


class InfoCb(CallbackData, prefix="i"):
    choice: str  # yes, no, or a locale code


class LangCb(CallbackData, prefix="l"):
    code: str


class DeleteCb(CallbackData, prefix="del"):
    confirm: Flag


class RoundCb(CallbackData, prefix="r"):
    """A step of /runde: toggle a unit, pick a survey, audience, closing, confirm."""

    step: str  # unit, page, next, survey, audience, closes, start, cancel
    value: str = ""


class ExportCb(CallbackData, prefix="exp"):
    r: RowId  # round id, or 0 for a period
    m: RowId  # months back for a period, or 0 for a round
