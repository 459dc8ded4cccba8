"""One router per concern, collected in the order they must be tried."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.routers import commands, errors, export, fallback, staff, start, survey


def get_routers() -> list[Router]:
    """The routers; the fallback comes last, so it only sees what nobody else took (the
    errors router only sees what a handler raised)."""
    modules = (start, commands, staff, export, survey, fallback, errors)
    routers = [m.make_router() for m in modules]
    for router in routers:
        # Pejling talks to people one to one; groups and channels get nothing.
        router.message.filter(F.chat.type == ChatType.PRIVATE)
        router.edited_message.filter(F.chat.type == ChatType.PRIVATE)
    return routers
