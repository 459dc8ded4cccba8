"""Button payloads. Each stays far below Telegram's 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class AnswerCb(CallbackData, prefix="a"):
    d: int  # delivery
    i: int  # question index the button belongs to
    v: str  # option position, "x" (don't know) or "s" (skip)


class BackCb(CallbackData, prefix="b"):
    d: int
    i: int


class BeginCb(CallbackData, prefix="g"):
    d: int


class FinishCb(CallbackData, prefix="f"):
    d: int
    i: int


class InfoCb(CallbackData, prefix="i"):
    choice: str  # yes, no, or a locale code


class LangCb(CallbackData, prefix="l"):
    code: str


class DeleteCb(CallbackData, prefix="del"):
    confirm: bool


class RoundCb(CallbackData, prefix="r"):
    """A step of /runde: toggle a unit, pick a survey, audience, closing, confirm."""

    step: str  # unit, next, survey, audience, closes, start, cancel
    value: str = ""
