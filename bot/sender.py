"""Sends what waits in the outbox (invitations, reminders) within Telegram's limits.

Only one process sends at a time: it holds a lease in the database, so the bot-wide
limit of about 30 messages a second holds however many processes run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import normalise_locale
from bot.render import Screen, outgoing_screen
from storage.lease import hold_lease, release_lease
from storage.types import utcnow
from surveys.fieldwork import outbox
from surveys.fieldwork.outbox import Outcome, Outgoing, Result

log = logging.getLogger(__name__)

LEASE = "sender"
MAX_RETRY_AFTER_PAUSES = 5


PER_CHAT_INTERVAL = 1.0  # Telegram: about one message a second within one chat


class RateLimiter:
    """Spaces calls evenly at ``rate`` per second for the bot, and at most one a second
    per chat (the one rate limiter of the bot; only the elected sender uses it)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_slot = 0.0
        self.last_in_chat: dict[int, float] = {}

    async def wait(self, chat_id: int | None = None) -> None:
        """Sleep until the next message may go (to ``chat_id``, when given)."""
        now = time.monotonic()
        slot = max(now, self.next_slot)
        if chat_id is not None:
            # Rare (one person in two rounds at once), so waiting here holds up little.
            slot = max(slot, self.last_in_chat.get(chat_id, -PER_CHAT_INTERVAL) + PER_CHAT_INTERVAL)
            self.last_in_chat[chat_id] = slot
            if len(self.last_in_chat) > 10_000:  # forget chats long past their second
                self.last_in_chat = {c: t for c, t in self.last_in_chat.items() if t > now - 2}
        self.next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        """Nothing goes out for ``seconds`` (Telegram said 429)."""
        self.next_slot = max(self.next_slot, time.monotonic() + seconds)


def messages_in_flight(send_rate: float) -> int:
    """How many messages the sender keeps in flight at once at ``send_rate`` a second."""
    return max(1, min(32, int(send_rate // 25)))


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    gone: int = 0
    retried: int = 0
    held_lease: bool = False
    outside_hours: bool = False
    errors: list[str] = field(default_factory=list)


class Sender:
    """Works through the outbox: claim a batch, send each message, record the outcome."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        i18n: I18n,
        *,
        clock: Callable[[], datetime] = utcnow,
        pause_scale: float = 1.0,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.settings = settings
        self.i18n = i18n
        self.clock = clock
        # Tests and the demo run Telegram's pauses faster; production waits them out in full.
        self.pause_scale = pause_scale
        self.hours = settings.contact_hours
        self.limiter = RateLimiter(settings.send_rate)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = False
        self.lease_ttl = timedelta(seconds=settings.sender_lease_seconds)
        # A batch takes at most a third of the lease to send, so the lease is renewed in time.
        self.batch = max(1, min(200, int(settings.send_rate * settings.sender_lease_seconds / 3)))
        self.renewed = 0.0
        # Messages in flight at once: one at Telegram's 30/s (then at most that one message
        # can go twice after a hard kill), more for paid broadcasts at hundreds a second,
        # where one HTTP round trip at a time cannot keep up. Outcomes are recorded in
        # groups of the same size, one transaction (and one statement per kind of outcome)
        # each, so a hard kill can double at most 2 * in_flight - 1 messages: those in
        # flight and those sent but not yet recorded.
        self.in_flight = messages_in_flight(settings.send_rate)
        self._outcomes: list[Outcome] = []
        self._recording = asyncio.Lock()

    def stop(self) -> None:
        """Finish the messages in flight and record them, then stop (SIGTERM)."""
        self.stopping = True

    async def release(self) -> None:
        """Hand the sender role over at once on a clean shutdown."""
        async with self.sessions() as session:
            await release_lease(session, LEASE, self.holder)
            await session.commit()

    async def _hold(self, *, starting: bool = False) -> bool:
        async with self.sessions() as session:
            now = self.clock()
            held, fresh = await hold_lease(session, LEASE, self.holder, now, self.lease_ttl)
            if fresh:
                reclaimed = await outbox.reclaim_abandoned(session)
                if reclaimed:
                    log.warning("took over as sender; %s unsent invitations reclaimed", reclaimed)
            elif held and starting:
                # Only between ticks: during one, old claims may still be in flight.
                reclaimed = await outbox.reclaim_abandoned(session, now - outbox.STALE_CLAIM)
                if reclaimed:
                    log.warning("%s invitations left claimed by a failed tick reclaimed", reclaimed)
            await session.commit()
        self.renewed = time.monotonic()
        return held

    async def _still_holding(self) -> bool:
        """Renew the lease when a third of it has passed (after a long 429 pause, say)."""
        if time.monotonic() - self.renewed < self.lease_ttl.total_seconds() / 3:
            return True
        return await self._hold()

    async def run_once(self) -> SendReport:
        """Send everything due now (if this process is the sender and it is contact time)."""
        report = SendReport()
        if not await self._hold(starting=True):
            return report
        report.held_lease = True
        if not self.hours.allows(self.clock()):
            report.outside_hours = True
            return report
        # The slots and the running sends carry over from one batch to the next, and the
        # next batch is claimed while this one goes out, so the sending never waits for
        # the database.
        slots = asyncio.Semaphore(self.in_flight)
        running: set[asyncio.Task[None]] = set()
        unsent: list[Outgoing] = []
        upcoming: asyncio.Task[list[Outgoing]] | None = asyncio.create_task(self._claim())
        try:
            while upcoming is not None and not unsent:
                batch = await upcoming
                upcoming = None
                if self.stopping:
                    unsent = batch
                    break
                if not batch:
                    if not running and not self._outcomes:
                        break
                    # Messages put back (after 429s) are due again once recorded.
                    await self._finish(running)
                    upcoming = asyncio.create_task(self._claim())
                    continue
                upcoming = asyncio.create_task(self._claim())
                for index, message in enumerate(batch):
                    if self.stopping or not await self._still_holding():
                        unsent = batch[index:]
                        break
                    await slots.acquire()
                    task = asyncio.create_task(self._deliver_in_slot(message, report, slots))
                    running.add(task)
                    task.add_done_callback(running.discard)
        finally:
            try:
                await self._finish(running)
            finally:
                if upcoming is not None:  # claimed ahead, never sent: back to the outbox
                    unsent += await upcoming
                if unsent:
                    await self._return_unsent(unsent)
        return report

    async def _claim(self) -> list[Outgoing]:
        async with self.sessions() as session:
            batch = await outbox.claim_due(session, self.batch, now=self.clock())
            await session.commit()
        return batch

    async def _deliver_in_slot(
        self, message: Outgoing, report: SendReport, slots: asyncio.Semaphore
    ) -> None:
        try:
            await self._deliver(message, report)
        finally:
            slots.release()

    async def _finish(self, running: set[asyncio.Task[None]]) -> None:
        """Let the messages in flight finish, and record every outcome."""
        try:
            if running:
                await asyncio.gather(*running)
        finally:
            await self._record()

    async def _return_unsent(self, messages: list[Outgoing]) -> None:
        async with self.sessions() as session:
            await outbox.send_again(session, messages, self.clock())
            await session.commit()

    def _screen(self, message: Outgoing) -> Screen:
        locale = normalise_locale(message.locale)
        with self.i18n.context(), self.i18n.use_locale(locale):
            return outgoing_screen(message, self.settings, locale)

    async def _deliver(self, message: Outgoing, report: SendReport) -> None:
        screen = self._screen(message)
        for _ in range(MAX_RETRY_AFTER_PAUSES):
            await self.limiter.wait(message.chat_id)
            try:
                await self.bot.send_message(
                    message.chat_id, screen.text, reply_markup=screen.markup
                )
            except TelegramRetryAfter as error:
                log.warning("429 from Telegram: pausing %s s", error.retry_after)
                self.limiter.pause(error.retry_after * self.pause_scale)
                report.retried += 1
                continue
            except TelegramForbiddenError:
                await self._settle(message, Result.GONE)
                report.gone += 1
                log.info("delivery %s: the person blocked the bot", message.delivery_id)
                return
            except TelegramBadRequest as error:
                await self._settle(message, Result.FAILED, error.message)
                report.failed += 1
                log.warning("delivery %s failed: %s", message.delivery_id, error.message)
                return
            except (TelegramNetworkError, TelegramServerError, TelegramAPIError) as error:
                log.warning("delivery %s: %s; will retry", message.delivery_id, error)
                await self._settle(message, Result.RETRY, str(error))
                report.errors.append(str(error))
                return
            await self._settle(message, Result.SENT)
            report.sent += 1
            log.info("delivery %s: %s sent", message.delivery_id, message.kind)
            return
        await self._settle(message, Result.UNSENT)

    async def _settle(self, message: Outgoing, result: Result, reason: str = "") -> None:
        self._outcomes.append(Outcome(message, result, reason))
        if len(self._outcomes) >= self.in_flight:
            await self._record()

    async def _record(self) -> None:
        """Write the outcomes gathered so far, in one transaction."""
        async with self._recording:
            outcomes, self._outcomes = self._outcomes, []
            if not outcomes:
                return
            async with self.sessions() as session:
                await outbox.record(session, outcomes, self.clock())
                await session.commit()
