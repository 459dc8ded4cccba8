"""Keep aiogram's parametrised response models alive.

aiogram checks every Bot API answer with ``Response[method.__returning__]``. Pydantic
caches such generic models only weakly, so in a process that allocates a lot (the ORM)
the garbage collector frees them between calls and each call builds its model again:
several milliseconds of CPU per Telegram call. Holding them here keeps the cache warm.
"""

from __future__ import annotations

from typing import Any

from aiogram import methods
from aiogram.methods.base import Response, TelegramMethod

# The Bot API methods Pejling calls.
USED = (
    methods.GetMe,
    methods.GetUpdates,
    methods.SendMessage,
    methods.EditMessageText,
    methods.EditMessageReplyMarkup,
    methods.AnswerCallbackQuery,
    methods.SendDocument,
    methods.SendPhoto,
    methods.SetMyCommands,
    methods.DeleteWebhook,
    methods.SetWebhook,
)

_kept: list[Any] = []


def keep_response_models() -> None:
    """Build each used method's response model once and hold on to it."""
    if _kept:
        return
    for method in USED:
        assert issubclass(method, TelegramMethod)
        _kept.append(Response[method.__returning__])  # type: ignore[name-defined]
