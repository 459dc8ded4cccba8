"""The composition root: bot, dispatcher, scheduler, and running them."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import LOCALES, AccountI18nMiddleware, make_i18n
from bot.middlewares import DatabaseMiddleware
from bot.routers import get_routers
from bot.routers.commands import menu_commands
from bot.sender import InvitationSender
from storage.db import create_engine, session_factory
from storage.migrate import prepare
from storage.models import ProcessedUpdate
from storage.types import utcnow

log = logging.getLogger(__name__)

KEEP_PROCESSED_UPDATES = timedelta(days=2)


def build_bot(settings: Settings) -> Bot:
    """A bot talking to ``TELEGRAM_API_URL`` (Telegram, a local Bot API server or a stand-in)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], i18n: I18n | None = None
) -> Dispatcher:
    """The dispatcher with its routers and middlewares; all state lives in the database."""
    i18n = i18n or make_i18n()
    dispatcher = Dispatcher(settings=settings, sessions=sessions)
    dispatcher.update.outer_middleware(DatabaseMiddleware(sessions))
    AccountI18nMiddleware(i18n).setup(dispatcher)
    dispatcher.include_routers(*get_routers())
    return dispatcher


async def set_menu(bot: Bot, i18n: I18n) -> None:
    """The command menu, in Danish by default and in English for English phones."""
    scope = BotCommandScopeDefault()
    await bot.set_my_commands(menu_commands(i18n, "da"), scope=scope)
    for code in LOCALES:
        await bot.set_my_commands(menu_commands(i18n, code), scope=scope, language_code=code)


async def prune_processed_updates(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Forget update ids older than Telegram would ever redeliver."""
    async with sessions() as session:
        await session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.processed_at < utcnow() - KEEP_PROCESSED_UPDATES
            )
        )
        await session.commit()


def build_scheduler(
    sender: InvitationSender, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIOScheduler:
    """Timing only: each process has its own in-memory scheduler; the database decides
    who does what, so several processes never share a job store."""
    scheduler = AsyncIOScheduler(timezone="Europe/Copenhagen")
    scheduler.add_job(
        sender.run_once,
        "interval",
        seconds=settings.sender_interval_seconds,
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),
        id="send-invitations",
    )
    scheduler.add_job(prune_processed_updates, "interval", hours=6, args=[sessions], id="prune")
    return scheduler


async def run_polling(settings: Settings) -> None:
    """`pejling run`: long polling, the sender and the scheduler, until stopped."""
    settings.require_token()
    engine = create_engine(settings.database_url)
    try:
        await prepare(engine)
        sessions = session_factory(engine)
        i18n = make_i18n()
        bot = build_bot(settings)
        dispatcher = build_dispatcher(settings, sessions, i18n)
        await set_menu(bot, i18n)
        sender = InvitationSender(bot, sessions, settings, i18n)
        scheduler = build_scheduler(sender, sessions, settings)
        scheduler.start()
        try:
            await dispatcher.start_polling(bot)
        finally:
            scheduler.shutdown(wait=False)
            await bot.session.close()
    finally:
        await engine.dispose()


def main_polling(settings: Settings) -> None:
    asyncio.run(run_polling(settings))
