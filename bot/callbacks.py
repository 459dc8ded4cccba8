"""Button payloads. Each stays far below Telegram's 64 bytes."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# A row id or question index as the database can hold it: a forged 10**12 is refused at
# the door instead of overflowing PostgreSQL's integer.
RowId = Annotated[int, Field(ge=0, le=2**31 - 1)]


class AnswerCb(CallbackData, prefix="a"):
    d: RowId  # delivery
    i: RowId  # question index the button belongs to
    v: str  # option position, "x" (don't know) or "s" (skip)


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
    confirm: bool


class RoundCb(CallbackData, prefix="r"):
    """A step of /runde: toggle a unit, pick a survey, audience, closing, confirm."""

    step: str  # unit, page, next, survey, audience, closes, start, cancel
    value: str = ""


class ExportCb(CallbackData, prefix="exp"):
    r: RowId  # round id, or 0 for a period
    m: RowId  # months back for a period, or 0 for a round
