"""The sender through Telegram's outages: a round outlives a long one, and one where
Telegram takes the connections but never answers, a revoked token stops sending and
shows on /healthz, a 400 still fails only its own delivery."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.health import health_app
from bot.sender import Sender, messages_in_flight
from standin import BotAPIStandIn
from storage.models import Delivery, DeliveryStatus, RoundAudience
from storage.types import utcnow
from surveys.fieldwork.outbox import RETRY_AFTER_FAULT
from tests.bot.test_rounds import invitations, statuses
from tests.harness import BotHarness

# What the sender did before: 5 attempts, 2 + 4 + 8 + 16 s apart, then FAILED for good.
OLD_RETRY_BUDGET = 2 + 4 + 8 + 16


def failed_sends(standin: BotAPIStandIn) -> int:
    return sum(1 for call in standin.calls_of("sendMessage") if not call.ok)


async def healthz(engine: AsyncEngine, sender: Sender) -> tuple[int, dict[str, object]]:
    """GET /healthz over HTTP, from the health app as `pejling run` builds it."""
    app = health_app(engine, lambda: True, sender_state=lambda: sender.state)
    async with (
        TestServer(app) as server,
        ClientSession() as client,
        client.get(server.make_url("/healthz")) as response,
    ):
        return response.status, await response.json()


def figure(harness: BotHarness, name: str) -> float | None:
    return harness.metrics.registry.get_sample_value(name)


async def attempts(harness: BotHarness) -> Counter[int]:
    async with harness.sessions() as session:
        rows = await session.execute(
            select(Delivery.attempts, func.count()).group_by(Delivery.attempts)
        )
        return Counter(dict(rows.all()))


async def test_a_round_outlives_an_outage_longer_than_the_old_retry_budget(
    harness: BotHarness,
) -> None:
    standin = harness.standin
    unit = await harness.unit("Hjemmeplejen Vest", "home_care")
    people = await harness.crowd(unit, 300, first_user_id=400_000)
    _, invited = await harness.open_round(unit, RoundAudience.RELATIVES)
    assert invited == 300
    sender = harness.sender()
    sending = asyncio.create_task(sender.run_once())

    # Telegram goes away mid-round: first the connection closes without an answer, then
    # a proxy's HTML error page, then Telegram's own 502, for over a minute of the
    # sender's time (its pauses run at 1/100 speed here).
    await standin.wait_for(lambda: len(invitations(standin)) >= 40, timeout=30)
    standin.outage("disconnect")
    await standin.wait_for(lambda: len(sender.outage_pauses) >= 2, timeout=30)
    assert sender.state == "paused" and figure(harness, "pejling_sender_paused") == 1
    standin.outage("gateway_page")
    await standin.wait_for(lambda: len(sender.outage_pauses) >= 4, timeout=30)
    standin.outage("bad_gateway")
    await standin.wait_for(lambda: sum(sender.outage_pauses) > 2 * OLD_RETRY_BUDGET, timeout=30)
    during_outage = failed_sends(standin)
    standin.end_outage()
    report = await sending

    assert sum(report.pauses) > 2 * OLD_RETRY_BUDGET and len(report.pauses) > 5
    # The pauses grow, up to the longest (jitter aside).
    assert report.pauses[0] == 1.0 and report.pauses[-1] > 8 * report.pauses[0]
    assert sender.state == "ok" and sender.outage_pauses == []
    assert figure(harness, "pejling_sender_paused") == 0
    assert figure(harness, "pejling_sender_pauses_total") == len(report.pauses)
    # Once the outage was noticed, one message went out per pause (the probe): the rest
    # failed together in the first wave, at most the messages in flight.
    first_wave = during_outage - (len(report.pauses) - 1)
    assert 1 <= first_wave <= messages_in_flight(harness.settings.send_rate)
    assert failed_sends(standin) == during_outage

    # The messages that met the outage wait a while (RETRY_AFTER_FAULT), then go out:
    # a tick that late sends the rest.
    later = utcnow() + RETRY_AFTER_FAULT
    sender.clock = lambda: later
    await sender.run_once()

    got = invitations(standin)
    assert set(got) == set(people)
    assert set(got.values()) == {1}  # every one invited exactly once: no duplicates
    assert await statuses(harness) == Counter({DeliveryStatus.SENT: 300})  # 0 failed
    assert await attempts(harness) == Counter({1: 300})  # no attempt charged for the outage
    assert (await sender.run_once()).sent == 0


async def impatient(harness: BotHarness) -> None:
    """The bot gives up on a request Telegram leaves unanswered after a second (aiogram's
    default is a minute), so a hang costs the test seconds."""
    harness.request_timeout = 1.0
    await harness.restart()


async def test_a_telegram_that_never_answers_pauses_the_sender_like_a_network_error(
    harness: BotHarness,
) -> None:
    await impatient(harness)
    standin = harness.standin
    unit = await harness.unit()
    people = await harness.crowd(unit, 100, first_user_id=620_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    sender = harness.sender()
    sending = asyncio.create_task(sender.run_once())

    # Telegram takes every connection and answers none: each send times out.
    await standin.wait_for(lambda: len(invitations(standin)) >= 20, timeout=30)
    standin.outage("hang")
    before = invitations(standin)
    await standin.wait_for(lambda: len(sender.outage_pauses) >= 2, timeout=30)
    assert sender.state == "paused" and "timeout" in (sender.outage or "")
    # Every send of the outage was held and given up on (the first wave, then one probe
    # a pause); none got through, and none was failed for it.
    assert invitations(standin) == before
    held = [call for call in standin.calls_of("sendMessage") if not call.ok]
    assert held and all("held" in (call.description or "") for call in held)
    assert DeliveryStatus.FAILED not in await statuses(harness)
    standin.end_outage()
    report = await sending

    assert len(report.pauses) >= 2 and report.failed == 0
    assert any("Request timeout error" in error for error in report.errors)
    assert sender.state == "ok" and figure(harness, "pejling_sender_paused") == 0

    # The messages that met the hang wait a while (RETRY_AFTER_FAULT), then go out.
    later = utcnow() + RETRY_AFTER_FAULT
    sender.clock = lambda: later
    await sender.run_once()

    got = invitations(standin)
    assert set(got) == set(people) and set(got.values()) == {1}  # exactly once each
    # Nothing held was carried out late: each chat shows the one invitation.
    assert {len([m for m in standin.chat(p) if m.from_bot]) for p in people} == {1}
    assert await statuses(harness) == Counter({DeliveryStatus.SENT: 100})  # 0 failed
    assert await attempts(harness) == Counter({1: 100})  # no attempt charged for the hang


async def test_a_revoked_token_stops_sending_and_turns_healthz_to_503(
    harness: BotHarness, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    standin = harness.standin
    unit = await harness.unit()
    await harness.crowd(unit, 100, first_user_id=500_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    sender = harness.sender()
    standin.revoke_token()

    with caplog.at_level(logging.ERROR, logger="bot.sender"):
        report = await sender.run_once()
    assert report.unauthorized and report.sent == 0 and sender.state == "unauthorized"
    assert figure(harness, "pejling_sender_unauthorized") == 1
    # The harness polls too, and its poller logs the same 401 under aiogram's name: only the
    # sender's own records count here.
    [error] = [r for r in caplog.records if r.name == "bot.sender" and r.levelno == logging.ERROR]
    assert "token" in error.getMessage() and "BOT_TOKEN" in error.getMessage()
    tried = len(standin.calls_of("sendMessage"))
    assert 1 <= tried <= messages_in_flight(harness.settings.send_rate)
    # Nothing failed and nothing charged: every invitation waits for a good token.
    assert await statuses(harness) == Counter({DeliveryStatus.PENDING: 100})
    assert await attempts(harness) == Counter({0: 100})

    # Sending has stopped: a later tick asks Telegram nothing.
    assert (await sender.run_once()).unauthorized
    assert len(standin.calls_of("sendMessage")) == tried

    status, body = await healthz(engine, sender)
    assert status == 503
    assert body["sender"] == "unauthorized" and body["status"] == "unhealthy"
    assert body["database"] == "ok" and body["scheduler"] == "ok"


async def test_a_400_fails_only_its_delivery_and_does_not_pause_the_sender(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    unit = await harness.unit()
    first, second, third = await harness.crowd(unit, 3, first_user_id=600_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    harness.standin.fail_next(
        "sendMessage", status=400, description="Bad Request: chat not found", chat_id=second
    )
    sender = harness.sender()
    report = await sender.run_once()
    assert report.sent == 2 and report.failed == 1 and report.pauses == []
    assert sender.state == "ok"
    assert set(invitations(harness.standin)) == {first, third}
    async with harness.sessions() as session:
        failed = (
            await session.execute(
                select(Delivery.status, Delivery.last_error).where(
                    Delivery.status == DeliveryStatus.FAILED
                )
            )
        ).all()
    assert failed == [(DeliveryStatus.FAILED, "Bad Request: chat not found")]

    status, body = await healthz(engine, sender)
    assert status == 200 and body["sender"] == "ok"


async def test_one_message_telegram_keeps_failing_does_not_hold_up_the_rest(
    harness: BotHarness,
) -> None:
    unit = await harness.unit()
    poisoned, *others = await harness.crowd(unit, 40, first_user_id=610_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    harness.standin.fail_next("sendMessage", status=500, count=1000, chat_id=poisoned)
    sender = harness.sender()
    report = await sender.run_once()

    # One pause, then a probe with another message, and the rest at full rate.
    assert len(report.pauses) == 1 and sender.state == "ok"
    assert set(invitations(harness.standin)) == set(others)
    assert await statuses(harness) == Counter({DeliveryStatus.SENT: 39, DeliveryStatus.PENDING: 1})
    async with harness.sessions() as session:
        waiting = (
            await session.execute(
                select(Delivery.attempts, Delivery.last_error, Delivery.next_attempt_at).where(
                    Delivery.status == DeliveryStatus.PENDING
                )
            )
        ).one()
    attempts_charged, reason, due_again = waiting
    assert attempts_charged == 0 and "Internal Server Error" in reason
    assert due_again is not None
    # Not failed: once Telegram takes it, it goes out like any other.
    harness.standin.clear_faults()
    later = utcnow() + RETRY_AFTER_FAULT
    sender.clock = lambda: later
    assert (await sender.run_once()).sent == 1
    assert invitations(harness.standin)[poisoned] == 1
