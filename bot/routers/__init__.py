"""One router per concern, collected in the order they must be tried."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.routers import commands, export, fallback, staff, start, survey


def get_routers() -> list[Router]:
    """The routers; the fallback comes last, so it only sees what nobody else took."""
    routers = [m.make_router() for m in (start, commands, staff, export, survey, fallback)]
    for router in routers:
        # Pejling talks to people one to one; groups and channels get nothing.
        router.message.filter(F.chat.type == ChatType.PRIVATE)
        router.edited_message.filter(F.chat.type == ChatType.PRIVATE)
    return routers
