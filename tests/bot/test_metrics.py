"""GET /metrics, scraped over HTTP and read with prometheus-client's own parser: the
figures match what happened and what the database holds, and name no one."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.health import health_app
from bot.metrics import Metrics
from standin import BotAPIStandIn
from storage.db import create_engine, session_factory
from storage.models import Citizen, Delivery, RoundAudience
from surveys.clock import DANISH_TIME
from surveys.fieldwork.outbox import ContactHours
from tests.bot.test_cli import PEJLING, free_port
from tests.bot.test_rounds import invitations
from tests.harness import BOT_USERNAME, TOKEN, BotHarness


class Scrape:
    """One scrape of /metrics, parsed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = list(text_string_to_metric_families(text))

    def samples(self) -> Iterator[Sample]:
        for family in self.families:
            yield from family.samples

    def names(self) -> set[str]:
        return {family.name for family in self.families}

    def value(self, name: str, **labels: str) -> float:
        found = [s.value for s in self.samples() if s.name == name and s.labels == labels]
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return found[0]


async def recorded(harness: BotHarness, sent: int) -> None:
    """Wait until the sender has recorded ``sent`` invitations (it records just after
    Telegram took them, and the test may look in between)."""
    async with asyncio.timeout(30):
        while True:
            async with harness.sessions() as session:
                count = await session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.sent_at.is_not(None))
                )
            if count == sent:
                return
            await asyncio.sleep(0.05)


async def scrape(engine: AsyncEngine, metrics: Metrics) -> Scrape:
    app = health_app(engine, lambda: True, metrics=metrics)
    async with (
        TestServer(app) as server,
        ClientSession() as client,
        client.get(server.make_url("/metrics")) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        return Scrape(await response.text())


async def test_the_figures_match_what_happened_and_name_no_one(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    standin = harness.standin
    unit = await harness.unit()
    people = await harness.crowd(unit, 12, first_user_id=7_000_001)
    blocked, refused, slowed, *answering = people
    standin.block(blocked, notify=False)
    standin.fail_next(
        "sendMessage", status=400, description="Bad Request: chat not found", chat_id=refused
    )
    standin.fail_next("sendMessage", status=429, retry_after=1, chat_id=slowed)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    metrics = harness.metrics
    metrics.watch(harness.sessions, harness.settings.contact_hours)

    before = await scrape(engine, metrics)
    assert before.value("pejling_outbox_messages", kind="invitation", state="due") == 12
    assert before.value("pejling_rounds_open") == 1
    assert before.value("pejling_sender_messages_total", kind="invitation", outcome="sent") == 0

    await harness.sender().run_once()
    presses = 0
    for user_id in answering[:3]:
        person = standin.person(user_id)
        await person.press("Start spørgeskemaet")
        await person.press("Altid")
        presses += 2

    after = await scrape(engine, metrics)
    async with harness.sessions() as session:
        sent_in_db = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.sent_at.is_not(None))
        )
        names = list((await session.scalars(select(Citizen.first_name))).all())
    assert sent_in_db == 10
    sent = after.value("pejling_sender_messages_total", kind="invitation", outcome="sent")
    assert sent == sent_in_db
    assert after.value("pejling_sender_messages_total", kind="invitation", outcome="blocked") == 1
    assert after.value("pejling_sender_messages_total", kind="invitation", outcome="failed") == 1
    assert after.value("pejling_sender_messages_total", kind="invitation", outcome="deferred") == 0
    assert after.value("pejling_sender_messages_total", kind="reminder", outcome="sent") == 0
    assert after.value("pejling_telegram_rate_limited_total") == 1
    assert after.value("pejling_telegram_faults_total") == 0
    assert after.value("pejling_sender_paused") == 0
    assert after.value("pejling_sender_unauthorized") == 0
    assert after.value("pejling_sender_leader") == 1
    assert after.value("pejling_outbox_messages", kind="invitation", state="due") == 0
    assert after.value("pejling_outbox_messages", kind="invitation", state="sending") == 0
    assert after.value("pejling_rounds_open") == 1
    handled = after.value("pejling_callback_query_duration_seconds_count", outcome="handled")
    assert handled == presses
    assert after.value("pejling_callback_query_duration_seconds_sum", outcome="handled") > 0
    for component in ("updates", "sender", "metrics"):
        assert after.value("pejling_database_errors_total", component=component) == 0

    # Every name follows Prometheus's guide: one prefix, counters in _total, durations
    # in _seconds.
    assert all(name.startswith("pejling_") for name in after.names())
    for family in after.families:
        if family.type == "counter":
            assert any(s.name == family.name + "_total" for s in family.samples)
    # No label names a person: no Telegram id, no name.
    ids = {str(user_id) for user_id in people}
    for sample in after.samples():
        for value in sample.labels.values():
            assert not any(user_id in value for user_id in ids), sample
            assert not any(name and name in value for name in names), sample
    assert names and not any(name and name in after.text for name in names)

    # Another bot in the same process keeps figures of its own.
    other = await scrape(engine, Metrics())
    assert other.value("pejling_sender_messages_total", kind="invitation", outcome="sent") == 0


async def test_outside_contact_hours_the_outbox_waits_for_them(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    unit = await harness.unit()
    await harness.crowd(unit, 3, first_user_id=7_100_001)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    tomorrow = datetime.now(DANISH_TIME).date() + timedelta(days=1)
    night = datetime.combine(tomorrow, time(22, 30), DANISH_TIME).astimezone(UTC)
    metrics = Metrics()
    metrics.watch(harness.sessions, ContactHours(9, 19), clock=lambda: night)
    figures = await scrape(engine, metrics)
    assert figures.value("pejling_outbox_messages", kind="invitation", state="due") == 0
    waiting = figures.value(
        "pejling_outbox_messages", kind="invitation", state="waiting_for_contact_hours"
    )
    assert waiting == 3


async def test_a_database_away_is_counted_and_its_figures_left_out(engine: AsyncEngine) -> None:
    away = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    try:
        metrics = Metrics()
        metrics.watch(session_factory(away), ContactHours(0, 24))
        figures = await scrape(engine, metrics)
    finally:
        await away.dispose()
    assert figures.value("pejling_database_errors_total", component="metrics") == 1
    assert "pejling_outbox_messages" not in figures.names()
    assert "pejling_rounds_open" not in figures.names()


async def test_pejling_run_serves_metrics_beside_healthz(
    standin: BotAPIStandIn, engine: AsyncEngine, settings: Settings
) -> None:
    # The municipality's side, written straight to the database; the bot is the process.
    municipality = BotHarness(standin=standin, sessions=session_factory(engine), settings=settings)
    unit = await municipality.unit()
    people = await municipality.crowd(unit, 5, first_user_id=7_200_001)
    await municipality.open_round(unit, RoundAudience.RELATIVES)
    port = free_port()
    env = {
        "DATABASE_URL": settings.database_url,
        "BOT_TOKEN": TOKEN,
        "BOT_USERNAME": BOT_USERNAME,
        "TELEGRAM_API_URL": standin.url,
        "SENDER_INTERVAL_SECONDS": "0.2",
        "CONTACT_HOURS": "00-24",
        "HEALTH_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        PEJLING, "run", env={**os.environ, **env}, stderr=asyncio.subprocess.PIPE
    )
    try:
        await standin.wait_for(lambda: len(invitations(standin)) == 5, timeout=30)
        await standin.person(people[0]).press("Start spørgeskemaet")
        await recorded(municipality, 5)
        async with ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                figures = Scrape(await response.text())
            async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["sender"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()[-2000:]
    assert figures.value("pejling_sender_messages_total", kind="invitation", outcome="sent") == 5
    assert figures.value("pejling_callback_query_duration_seconds_count", outcome="handled") == 1
    assert figures.value("pejling_sender_leader") == 1
    assert figures.value("pejling_rounds_open") == 1
    assert figures.value("pejling_outbox_messages", kind="invitation", state="due") == 0
