"""Sends what waits in the outbox (invitations, reminders) within Telegram's limits.

Only one process sends at a time: it holds a lease in the database, so the bot-wide
limit of about 30 messages a second holds however many processes run.

When Telegram cannot be reached (a network error, a timeout, a 5xx), the whole sender
pauses, with pauses growing from a second to three minutes, and one message probes before
the full rate comes back; what was in hand goes back to the outbox, and no one is failed
for an outage. A 401 (the token was revoked) stops the sender until a restart.
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
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import normalise_locale
from bot.metrics import OUTCOMES, Metrics
from bot.render import Screen, outgoing_screen
from storage.lease import hold_lease, release_lease
from storage.types import utcnow
from surveys.fieldwork import outbox
from surveys.fieldwork.outbox import RETRY_AFTER_FAULT, Outcome, Outgoing, Result

log = logging.getLogger(__name__)

LEASE = "sender"
MAX_RETRY_AFTER_PAUSES = 5
# The pauses while Telegram cannot be reached: 1, 2, 4 ... seconds, at most 3 minutes,
# each drawn around its value (aiogram's backoff, as its own polling uses).
OUTAGE_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=180.0, factor=2.0, jitter=0.5)


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
    unauthorized: bool = False
    errors: list[str] = field(default_factory=list)
    pauses: list[float] = field(default_factory=list)  # seconds, unscaled, in order


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
        metrics: Metrics | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.settings = settings
        self.i18n = i18n
        self.clock = clock
        # Tests and the demo run Telegram's pauses (and the retry of a message that met an
        # outage) faster; production waits them out in full.
        self.pause_scale = pause_scale
        self.metrics = metrics or Metrics()
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
        # Kept in memory: a restart starts afresh, which is what a restart is for.
        self.outage: str | None = None  # what Telegram's last failure was, until it answers
        self.outage_pauses: list[float] = []  # the pauses of this outage so far, in seconds
        self.unauthorized = False
        self._backoff = Backoff(OUTAGE_BACKOFF)
        self._stopped = asyncio.Event()

    @property
    def state(self) -> str:
        """ "ok", "paused" (Telegram cannot be reached) or "unauthorized" (a 401)."""
        if self.unauthorized:
            return "unauthorized"
        return "paused" if self.outage is not None else "ok"

    def stop(self) -> None:
        """Finish the messages in flight and record them, then stop (SIGTERM)."""
        self.stopping = True
        self._stopped.set()

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
        """Send everything due now (if this process is the sender and it is contact time),
        waiting out outages of Telegram on the way."""
        report = SendReport(unauthorized=self.unauthorized)
        if self.unauthorized:
            return report
        held = await self._hold(starting=True)
        self.metrics.sender_leader.set(1 if held else 0)
        if not held:
            self._end_outage(quietly=True)  # another process sends now, and pauses itself
            return report
        report.held_lease = True
        while not self.stopping:
            if not self.hours.allows(self.clock()):
                report.outside_hours = True
                break
            if self.outage is not None and not await self._pause(report):
                break
            await self._send_due(report)
            if self.outage is None or self.unauthorized:
                break
        if self.unauthorized:
            report.unauthorized = True
            self.metrics.sender_leader.set(0)
            await self.release()  # a process with a good token may take over
        return report

    def _halted(self) -> bool:
        """No more messages go out in this run: stopping, a 401, or an outage."""
        return self.stopping or self.unauthorized or self.outage is not None

    async def _send_due(self, report: SendReport) -> None:
        """Claim and send until nothing is due, or the sender stops, or Telegram fails.

        During an outage the first message goes alone (the probe); the rest of the batch
        follows only if Telegram answered it."""
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
                if not batch:
                    if not running and not self._outcomes:
                        break
                    # Messages put back (after 429s) are due again once recorded.
                    await self._finish(running)
                    if not self._halted():
                        upcoming = asyncio.create_task(self._claim())
                    continue
                if self.outage is not None and not self.stopping and not self.unauthorized:
                    probe, batch = batch[0], batch[1:]
                    await self._deliver(probe, report, probe=True)
                if self._halted():
                    unsent = batch
                    break
                upcoming = asyncio.create_task(self._claim())
                for index, message in enumerate(batch):
                    if self._halted() or not await self._still_holding():
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

    async def _pause(self, report: SendReport) -> bool:
        """Wait out one pause of an outage, holding the lease meanwhile. False when the
        sender stops or another process took the sender's role."""
        delay = max(OUTAGE_BACKOFF.min_delay, next(self._backoff))
        report.pauses.append(delay)
        self.outage_pauses.append(delay)
        self.metrics.sender_pauses.inc()
        log.warning(
            "sender paused for %.1f s (pause %s since Telegram stopped answering; last: %s)",
            delay,
            self._backoff.counter,
            self.outage,
        )
        deadline = time.monotonic() + delay * self.pause_scale
        while (left := deadline - time.monotonic()) > 0:
            renew_in = self.lease_ttl.total_seconds() / 3
            try:
                await asyncio.wait_for(self._stopped.wait(), timeout=min(left, renew_in))
                return False
            except TimeoutError:
                pass
            if not await self._still_holding():
                return False
        return not self.stopping

    def _begin_outage(self, error: Exception) -> None:
        self.metrics.telegram_faults.inc()
        noticed = self.outage is not None
        self.outage = f"{type(error).__name__}: {error}"[:300]  # the latest, for the log
        if noticed:
            return
        self.metrics.sender_paused.set(1)
        log.warning(
            "Telegram cannot be reached (%s): the sender pauses; what it had in hand stays "
            "in the outbox",
            self.outage,
        )

    def _end_outage(self, *, quietly: bool = False) -> None:
        if self.outage is not None and not quietly:
            log.info(
                "Telegram answers again after %s pause(s): sending resumes", self._backoff.counter
            )
        self.outage = None
        self.outage_pauses = []
        self._backoff.reset()
        self.metrics.sender_paused.set(0)

    def _revoked(self, error: TelegramUnauthorizedError) -> None:
        if self.unauthorized:
            return
        self.unauthorized = True
        self._end_outage(quietly=True)
        self.metrics.sender_unauthorized.set(1)
        log.error(
            "Telegram refused the bot's token (401 %s): BOT_TOKEN is wrong or was revoked. "
            "Sending has stopped and nothing is lost (the outbox keeps every message); set "
            "BOT_TOKEN to the bot's current token from @BotFather and restart Pejling.",
            error.message,
        )

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

    async def _deliver(self, message: Outgoing, report: SendReport, *, probe: bool = False) -> None:
        """Send one message and note what became of it. Only a probe may go out during an
        outage, and only its answer (any answer from Telegram) ends the outage: a message
        that left before the outage was noticed proves nothing."""
        screen = self._screen(message)
        for _ in range(MAX_RETRY_AFTER_PAUSES):
            await self.limiter.wait(message.chat_id)
            if self.unauthorized or (self.outage is not None and not probe):
                break  # back to the outbox untouched
            try:
                await self.bot.send_message(
                    message.chat_id, screen.text, reply_markup=screen.markup
                )
            except TelegramRetryAfter as error:
                log.warning("429 from Telegram: pausing %s s", error.retry_after)
                self.metrics.rate_limited.inc()
                self.limiter.pause(error.retry_after * self.pause_scale)
                report.retried += 1
                continue
            except TelegramForbiddenError:
                await self._answered(message, Result.GONE, probe=probe)
                report.gone += 1
                log.info("delivery %s: the person blocked the bot", message.delivery_id)
                return
            except TelegramBadRequest as error:
                await self._answered(message, Result.FAILED, error.message, probe=probe)
                report.failed += 1
                log.warning("delivery %s failed: %s", message.delivery_id, error.message)
                return
            except TelegramUnauthorizedError as error:
                self._revoked(error)
                break
            except (TelegramAPIError, ClientDecodeError) as error:
                # A network error, a timeout, a 5xx (or an answer that is not Telegram's,
                # such as a proxy's error page): Telegram is away, not this message.
                self._begin_outage(error)
                await self._settle(message, Result.RETRY, str(error))
                report.errors.append(str(error))
                return
            await self._answered(message, Result.SENT, probe=probe)
            report.sent += 1
            log.info("delivery %s: %s sent", message.delivery_id, message.kind)
            return
        await self._settle(message, Result.UNSENT)

    async def _answered(
        self, message: Outgoing, result: Result, reason: str = "", *, probe: bool
    ) -> None:
        if probe:
            self._end_outage()
        await self._settle(message, result, reason)

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
                await outbox.record(
                    session,
                    outcomes,
                    self.clock(),
                    retry_after=RETRY_AFTER_FAULT * self.pause_scale,
                )
                await session.commit()
                # Counted as soon as the database holds them, before anything else runs.
                for outcome in outcomes:
                    self.metrics.messages.labels(
                        kind=outcome.message.kind.value, outcome=OUTCOMES[outcome.result]
                    ).inc()
