"""The figures on `GET /metrics`, in Prometheus's text format (prometheus-client).

Each bot process has a registry of its own (not the library's global one), so several
bots in one process, as in the tests, keep their figures apart. Counters count what this
process did since it started; the outbox and the open rounds are read from the database
at each scrape, so every process shows the same figures for them. No label carries a
person, a name or a Telegram id: labels are kinds and outcomes only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.types import utcnow
from surveys.fieldwork import outbox, rounds
from surveys.fieldwork.outbox import ContactHours, Kind, OutboxDepth, Result

log = logging.getLogger(__name__)

# What became of a message, as the figures name it.
OUTCOMES: dict[Result, str] = {
    Result.SENT: "sent",
    Result.GONE: "blocked",  # 403: the person blocked the bot
    Result.FAILED: "failed",  # 400: Telegram refused this message for good
    Result.RETRY: "deferred",  # network, timeout or 5xx: due again a little later
    Result.UNSENT: "returned",  # back in the outbox untouched (429s, a pause, a stop)
}
DATABASE_TIMEOUT = 3.0
# A press is answered in tens of milliseconds; Telegram gives up on an answer after 15 s.
PRESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


class Metrics:
    """The counters and gauges of one bot process, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.messages = Counter(
            "pejling_sender_messages",
            "Invitations and reminders the sender handled, by what became of them.",
            ["kind", "outcome"],
            registry=registry,
        )
        for kind in Kind:
            for outcome in OUTCOMES.values():
                self.messages.labels(kind=kind.value, outcome=outcome)
        self.rate_limited = Counter(
            "pejling_telegram_rate_limited",
            "429 Too Many Requests answers Telegram gave the sender.",
            registry=registry,
        )
        self.telegram_faults = Counter(
            "pejling_telegram_faults",
            "Network errors, timeouts and 5xx answers the sender met.",
            registry=registry,
        )
        self.sender_pauses = Counter(
            "pejling_sender_pauses",
            "Pauses of the whole sender while Telegram could not be reached.",
            registry=registry,
        )
        self.sender_paused = Gauge(
            "pejling_sender_paused",
            "1 while the sender waits for Telegram to answer again after a network error "
            "or 5xx, else 0.",
            registry=registry,
        )
        self.sender_unauthorized = Gauge(
            "pejling_sender_unauthorized",
            "1 once Telegram refused the bot's token (401): nothing is sent until BOT_TOKEN "
            "is set right and the bot restarted.",
            registry=registry,
        )
        self.sender_leader = Gauge(
            "pejling_sender_leader",
            "1 when this process held the sender's lease at its last tick (one process sends).",
            registry=registry,
        )
        self.press_duration = Histogram(
            "pejling_callback_query_duration_seconds",
            "Time to handle a button press (callback query), from receiving it to the "
            "committed answer, by outcome (handled, unhandled, error).",
            ["outcome"],
            buckets=PRESS_BUCKETS,
            registry=registry,
        )
        self.database_errors = Counter(
            "pejling_database_errors",
            "Database errors, by the part of Pejling that met them (updates, sender, metrics).",
            ["component"],
            registry=registry,
        )
        for component in ("updates", "sender", "metrics"):
            self.database_errors.labels(component=component)
        self._database: _DatabaseFigures | None = None

    def watch(
        self,
        sessions: async_sessionmaker[AsyncSession],
        contact_hours: ContactHours,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Read the outbox and the open rounds from the database at each scrape."""
        self._database = _DatabaseFigures(sessions, contact_hours, clock)
        self.registry.register(self._database)

    async def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The figures, the database's read just now, and their content type: Prometheus's
        text format, or OpenMetrics when the scraper's ``accept`` header asks for it."""
        if self._database is not None:
            try:
                async with asyncio.timeout(DATABASE_TIMEOUT):
                    await self._database.read()
            except (SQLAlchemyError, OSError, TimeoutError) as error:
                # The figures from the database are left out rather than shown stale.
                log.warning("metrics: could not read the outbox: %s", error)
                self.database_errors.labels(component="metrics").inc()
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


class _DatabaseFigures(Collector):
    """The outbox's depth and the open rounds, as read by the last scrape."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        contact_hours: ContactHours,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.hours = contact_hours
        self.clock = clock
        self.figures: tuple[OutboxDepth, int, bool] | None = None

    async def read(self) -> None:
        self.figures = None
        now = self.clock()
        async with self.sessions() as session:
            depth = await outbox.depth(session, now)
            open_rounds = len(await rounds.open_round_ids(session, now=now))
        self.figures = (depth, open_rounds, self.hours.allows(now))

    def describe(self) -> Iterable[Metric]:
        return self._families(OutboxDepth(), 0, True)

    def collect(self) -> Iterable[Metric]:
        if self.figures is None:
            return []
        return self._families(*self.figures)

    @staticmethod
    def _families(depth: OutboxDepth, open_rounds: int, contact_time: bool) -> list[Metric]:
        waiting = GaugeMetricFamily(
            "pejling_outbox_messages",
            "Invitations and reminders waiting in the outbox of open rounds, by state: due "
            "(goes out now), waiting_for_contact_hours (due, outside CONTACT_HOURS), "
            "retry_later (after a temporary failure), sending (in flight).",
            labels=["kind", "state"],
        )
        # Both states always, so a series does not vanish when the contact hours turn.
        for kind, count in (
            (Kind.INVITATION, depth.invitations_due),
            (Kind.REMINDER, depth.reminders_due),
        ):
            waiting.add_metric([kind.value, "due"], count if contact_time else 0)
            waiting.add_metric(
                [kind.value, "waiting_for_contact_hours"], 0 if contact_time else count
            )
        waiting.add_metric([Kind.INVITATION.value, "retry_later"], depth.invitations_later)
        waiting.add_metric([Kind.INVITATION.value, "sending"], depth.invitations_sending)
        rounds_open = GaugeMetricFamily("pejling_rounds_open", "Survey rounds open now.")
        rounds_open.add_metric([], open_rounds)
        return [waiting, rounds_open]
