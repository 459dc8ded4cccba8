"""The composition root: bot, dispatcher, sender, scheduler, and running them."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings, SettingsError
from bot.health import health_app, serve_health
from bot.i18n import AccountI18nMiddleware, make_i18n
from bot.metrics import Metrics
from bot.middlewares import DatabaseMiddleware, UpdateMetricsMiddleware
from bot.routers import get_routers
from bot.routers.commands import menu_commands
from bot.sender import Sender
from bot.warmup import keep_response_models
from storage.db import create_engine, session_factory
from storage.housekeeping import forget_old_bookkeeping
from storage.migrate import prepare
from storage.types import utcnow
from surveys.clock import DANISH_TIMEZONE
from surveys.fieldwork import rounds, schedules
from surveys.privacy import retention
from surveys.questionnaire.translation import LOCALES

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"
#: Updates handled at the same time. Without a bound, a burst of hundreds of presses asked
#: the pool (storage.db.POOL_SIZE, 20 at a peak) for connections all at once, and the last
#: waited there 30 s and failed. A press commits before it talks to Telegram, so it holds
#: a connection for a short part of its time and the bound can be above the pool's steady
#: size (the benchmark runs could not tell 8, 16 and no bound apart from their noise:
#: bench/PROFILES.md). The rest wait at Telegram: polling fetches no more meanwhile, and
#: Telegram opens no more webhook connections than this.
UPDATES_AT_ONCE = 16


def build_bot(settings: Settings) -> Bot:
    """A bot talking to ``TELEGRAM_API_URL`` (Telegram, a local Bot API server or a stand-in)."""
    keep_response_models()
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.require_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n | None = None,
    metrics: Metrics | None = None,
) -> Dispatcher:
    """The dispatcher with its routers and middlewares; all state lives in the database."""
    i18n = i18n or make_i18n()
    metrics = metrics or Metrics()
    # i18n is also for the errors router, which runs outside the language middleware.
    dispatcher = Dispatcher(settings=settings, sessions=sessions, i18n=i18n)
    # Outermost, so a press's time includes the database's work and commit.
    dispatcher.update.outer_middleware(UpdateMetricsMiddleware(metrics))
    dispatcher.update.outer_middleware(DatabaseMiddleware(sessions, i18n, metrics))
    # Not on the errors observer: after a failed update the account's session is gone, and
    # the errors router picks its language itself.
    AccountI18nMiddleware(i18n).setup(dispatcher, exclude={"error"})
    dispatcher.include_routers(*get_routers())
    return dispatcher


async def set_menu(bot: Bot, i18n: I18n) -> None:
    """The command menu, in Danish by default and in each language for its phones."""
    scope = BotCommandScopeDefault()
    await bot.set_my_commands(menu_commands(i18n, "da"), scope=scope)
    for code in LOCALES:
        await bot.set_my_commands(menu_commands(i18n, code), scope=scope, language_code=code)


async def prune_processed_updates(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Forget update ids older than Telegram would ever redeliver, and old wrong tokens."""
    async with sessions() as session:
        await forget_old_bookkeeping(session, utcnow())
        await session.commit()


async def housekeeping(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Close rounds past their time, start recurring rounds that are due, and tally a
    closed round that has no tally (one a tick, so a tick stays short)."""
    async with sessions() as session:
        closed = await rounds.close_expired_rounds(session)
        started = await schedules.start_due(session)
        await session.commit()
    async with sessions() as session:
        tallied = await rounds.tally_closed_rounds(session)
        await session.commit()
    if closed or started or tallied:
        log.info(
            "closed %s round(s), started %s scheduled round(s), tallied %s round(s)",
            closed,
            len(started),
            tallied,
        )


class _SkipOverlapNotices(logging.Filter):
    """A sender tick lasts until the outbox is empty, so APScheduler skipping the next
    ticks meanwhile is the plan, not news worth a warning each 5 seconds."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkipOverlapNotices())


class Ticker:
    """Runs the sender on APScheduler's ticks, and lets a shutdown wait for the tick in
    flight to finish its message (SIGTERM loses nothing)."""

    def __init__(self, sender: Sender, interval: float) -> None:
        self.sender = sender
        self.interval = interval
        self.idle = asyncio.Event()
        self.idle.set()
        self.last_tick = time.monotonic()

    async def tick(self) -> None:
        if self.sender.stopping:
            return
        self.idle.clear()
        self.last_tick = time.monotonic()
        try:
            await self.sender.run_once()
        except Exception as error:
            # A failed tick is retried by the next one; the outbox keeps what was not sent.
            if isinstance(error, SQLAlchemyError | OSError):
                self.sender.metrics.database_errors.labels(component="sender").inc()
            log.exception("the sender's tick failed")
        finally:
            self.last_tick = time.monotonic()
            self.idle.set()

    def alive(self) -> bool:
        """Ticking: in a tick now, or one ended within a few intervals."""
        stale_after = max(30.0, 5 * self.interval)
        return not self.idle.is_set() or time.monotonic() - self.last_tick < stale_after

    async def shutdown(self) -> None:
        self.sender.stop()
        await self.idle.wait()
        await self.sender.release()


async def nightly_purge(sessions: async_sessionmaker[AsyncSession], months: int) -> None:
    """Retention, every night: idempotent, so two processes doing it do no harm."""
    async with sessions() as session:
        report = await retention.purge(session, retention_months=months)
        await session.commit()
    log.info("nightly purge: %s", report)


def build_scheduler(
    ticker: Ticker, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIOScheduler:
    """Timing only: each process has its own in-memory scheduler, and the database decides
    who does what, so processes never share a job store (APScheduler warns against it)."""
    scheduler = AsyncIOScheduler(timezone=DANISH_TIMEZONE)
    scheduler.add_job(
        ticker.tick,
        "interval",
        seconds=settings.sender_interval_seconds,
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),
        id="send",
    )
    scheduler.add_job(
        housekeeping, "interval", seconds=60, args=[sessions], next_run_time=utcnow(), id="rounds"
    )
    scheduler.add_job(prune_processed_updates, "interval", hours=6, args=[sessions], id="prune")
    scheduler.add_job(
        nightly_purge,
        "cron",
        hour=3,
        minute=17,
        args=[sessions, settings.retention_months],
        id="purge",
    )
    return scheduler


async def serve(settings: Settings, *, webhook: bool = False) -> None:
    """`pejling run`: the bot (long polling or webhook), the sender, the scheduler, and
    the web pages (WEB_PORT) when WEB_SESSION_SECRET is set."""
    settings.require_token()
    if webhook and not settings.webhook_url:
        raise SettingsError("WEBHOOK_URL: needed for --webhook (the public HTTPS address)")
    if webhook and not settings.webhook_secret:
        raise SettingsError("WEBHOOK_SECRET: needed for --webhook (16-256 letters and digits)")
    engine = create_engine(settings.database_url)
    try:
        await prepare(engine)
        sessions = session_factory(engine)
        i18n = make_i18n()
        metrics = Metrics()
        bot = build_bot(settings)
        dispatcher = build_dispatcher(settings, sessions, i18n, metrics)
        sender = Sender(bot, sessions, settings, i18n, metrics=metrics)
        metrics.watch(sessions, sender.hours)
        ticker = Ticker(sender, settings.sender_interval_seconds)
        scheduler = build_scheduler(ticker, sessions, settings)
        health = None
        pages = None
        try:
            try:
                await set_menu(bot, i18n)
            except TelegramUnauthorizedError as error:
                raise SettingsError(
                    "BOT_TOKEN: Telegram refused the token (401 Unauthorized): it is wrong or "
                    "was revoked; set the bot's current token from @BotFather"
                ) from error
            except (TelegramNetworkError, TelegramServerError) as error:
                # Polling and the webhook need Telegram at start-up too (who the bot is,
                # where updates go): one line and a stop, and the service manager (compose's
                # restart policy) starts Pejling again.
                raise SettingsError(
                    f"TELEGRAM_API_URL: cannot reach Telegram at {settings.telegram_api_url} "
                    f"({error.message}); check the address and the network, then start "
                    "Pejling again"
                ) from error
            scheduler.start()
            pages = await _start_web_pages(settings, sessions, engine)
            if settings.health_port:
                health = await serve_health(
                    health_app(
                        engine,
                        lambda: scheduler.running and ticker.alive(),
                        _web_probe(settings) if pages is not None else None,
                        sender_state=lambda: sender.state,
                        metrics=metrics,
                    ),
                    settings.webhook_host,
                    settings.health_port,
                )
            if webhook:
                await _serve_webhook(settings, bot, dispatcher)
            else:
                await bot.delete_webhook()
                await dispatcher.start_polling(
                    bot,
                    handle_signals=True,
                    close_bot_session=False,
                    tasks_concurrency_limit=UPDATES_AT_ONCE,
                )
        finally:
            # The sender first: it finishes the message in flight and records it. Shutting
            # APScheduler down first would cancel that tick mid-message.
            await ticker.shutdown()
            if scheduler.running:  # not yet, when starting failed
                scheduler.shutdown(wait=False)
            if health is not None:
                await health.cleanup()
            if pages is not None:
                await pages.cleanup()
            await bot.session.close()
    finally:
        await engine.dispose()


async def _start_web_pages(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> web.AppRunner | None:
    """The web pages beside the bot (WEB_PORT), when WEB_SESSION_SECRET is set."""
    if not settings.web_port:
        return None
    if settings.web_session_secret is None:
        log.warning(
            "web pages off: WEB_SESSION_SECRET is not set (WEB_PORT=0 turns this warning off)"
        )
        return None
    # The composition root is the one place in bot/ that starts the browser edge.
    from web.server import start_web

    return await start_web(settings, sessions, engine)


def _web_probe(settings: Settings) -> Callable[[], Awaitable[str]]:
    from web.server import local_address, probe

    address = local_address(settings)
    return lambda: probe(address)


def build_webhook_app(settings: Settings, bot: Bot, dispatcher: Dispatcher) -> web.Application:
    """Telegram's webhook over aiohttp: a wrong or missing secret header gets 401 and
    nothing is processed; an update already processed is skipped by the middleware."""
    assert settings.webhook_secret
    app = web.Application()
    # Handled before answering, so a failure makes Telegram retry (the update id dedupes).
    SimpleRequestHandler(
        dispatcher, bot, secret_token=settings.webhook_secret, handle_in_background=False
    ).register(app, path=WEBHOOK_PATH)
    setup_application(app, dispatcher, bot=bot)
    return app


async def _serve_webhook(settings: Settings, bot: Bot, dispatcher: Dispatcher) -> None:
    assert settings.webhook_url and settings.webhook_secret
    app = build_webhook_app(settings, bot, dispatcher)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    await bot.set_webhook(
        settings.webhook_url.rstrip("/") + WEBHOOK_PATH,
        secret_token=settings.webhook_secret,
        allowed_updates=dispatcher.resolve_used_update_types(),
        max_connections=UPDATES_AT_ONCE,
    )
    log.info(
        "webhook served on %s:%s%s", settings.webhook_host, settings.webhook_port, WEBHOOK_PATH
    )
    # An event, not aiohttp's signal handling (run_app, AppRunner(handle_signals=True)):
    # its GracefulExit cancels every task, the sender's message in flight with them.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(settings: Settings, *, webhook: bool = False) -> None:
    # Everything imported so far (aiogram's models, SQLAlchemy, the catalogs) lives as long
    # as the process: out of the collector's sight, a full collection no longer walks
    # those objects, which held up every update in flight for tenths of a second.
    gc.freeze()
    asyncio.run(serve(settings, webhook=webhook))
