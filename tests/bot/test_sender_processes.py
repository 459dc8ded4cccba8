"""The real `pejling run` process: stopped with SIGTERM or killed with SIGKILL mid-round,
and two processes on one PostgreSQL database sending one round."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import UPDATES_AT_ONCE
from bot.config import Settings
from bot.sender import messages_in_flight
from standin import BotAPIStandIn
from storage.models import RoundAudience
from tests.bot.test_cli import PEJLING
from tests.bot.test_rounds import INVITATION, invitations
from tests.harness import BOT_USERNAME, TOKEN, BotHarness


class Processes:
    """`pejling run` processes against the stand-in and the test's database."""

    def __init__(self, settings: Settings, standin: BotAPIStandIn, send_rate: int) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "BOT_TOKEN": TOKEN,
            "BOT_USERNAME": BOT_USERNAME,
            "TELEGRAM_API_URL": standin.url,
            "SEND_RATE": str(send_rate),
            "SENDER_INTERVAL_SECONDS": "0.2",
            "SENDER_LEASE_SECONDS": "1.5",
            "CONTACT_HOURS": "00-24",
            "LOG_LEVEL": "WARNING",
            "HEALTH_PORT": "0",
        }
        self.running: list[asyncio.subprocess.Process] = []

    async def start(self, *args: str, **env: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            PEJLING,
            "run",
            *args,
            env={**self.env, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self.running.append(process)
        return process

    async def stop(self, process: asyncio.subprocess.Process, signum: int) -> int:
        process.send_signal(signum)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        self.running.remove(process)
        assert process.returncode is not None
        if signum == signal.SIGTERM:
            assert process.returncode == 0, err.decode()[-3000:]
        if os.environ.get("DEBUG_SENDER"):
            print(err.decode()[-4000:])
        return process.returncode

    async def close(self) -> None:
        for process in list(self.running):
            await self.stop(process, signal.SIGKILL)


@pytest.fixture
async def processes(
    settings: Settings, standin: BotAPIStandIn, harness: BotHarness
) -> AsyncIterator[Processes]:
    # The in-test bot would compete with the processes for getUpdates: only they run.
    await harness.stop()
    group = Processes(settings, standin, send_rate=40)
    try:
        yield group
    finally:
        await group.close()


def sent(standin: BotAPIStandIn) -> int:
    return sum(invitations(standin).values())


async def test_sigterm_and_sigkill_mid_round_lose_no_one(
    processes: Processes, standin: BotAPIStandIn, harness: BotHarness
) -> None:
    unit = await harness.unit()
    people = await harness.crowd(unit, 200, first_user_id=700_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)

    first = await processes.start()
    await standin.wait_for(lambda: sent(standin) >= 50, timeout=60)
    await processes.stop(first, signal.SIGTERM)
    after_term = invitations(standin)
    assert set(after_term.values()) == {1}  # a clean stop doubles no one
    assert 50 <= sent(standin) < 200

    second = await processes.start()
    await standin.wait_for(lambda: sent(standin) >= 120, timeout=60)
    await processes.stop(second, signal.SIGKILL)

    await processes.start()
    await standin.wait_for(lambda: set(invitations(standin)) == set(people), timeout=60)
    counts = invitations(standin)
    doubled = [user for user, count in counts.items() if count > 1]
    # Only the message in flight at the instant of the SIGKILL may go out twice.
    assert len(doubled) <= 1 and max(counts.values()) <= 2


async def test_two_processes_on_postgresql_send_one_round_once_within_the_limit(
    processes: Processes,
    standin: BotAPIStandIn,
    harness: BotHarness,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share one database in production: PostgreSQL")
    unit = await harness.unit()
    people = await harness.crowd(unit, 300, first_user_id=800_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    rate = 100
    for port in (18431, 18432):
        await processes.start(
            "--webhook",
            SEND_RATE=str(rate),
            WEBHOOK_URL="https://pejling.example.dk",
            WEBHOOK_SECRET="a-long-enough-secret-123",
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
    await standin.wait_for(lambda: set(invitations(standin)) == set(people), timeout=90)
    assert set(invitations(standin).values()) == {1}
    # Telegram opens no more connections at once than the bot handles updates at once.
    assert standin.webhook_max_connections == UPDATES_AT_ONCE

    stamps = sorted(
        call.timestamp
        for call in standin.calls_of("sendMessage")
        if call.ok and INVITATION in str(call.params.get("text", ""))
    )
    busiest = max(sum(1 for t in stamps[i:] if t - start < 1.0) for i, start in enumerate(stamps))
    # The sender paces departures; the stand-in stamps arrivals, after the loopback and
    # this test process's own event loop. A hold-up in between can deliver at once what
    # was in flight, so arrivals may bunch by up to that many, never more. Two senders at
    # once would show as twice the rate.
    in_flight = messages_in_flight(rate)
    assert busiest <= rate + in_flight, f"{busiest} messages in one second across processes"
    # Both processes were up the whole time (the lease, not a crash, kept one quiet).
    assert len(processes.running) == 2
    assert all(process.returncode is None for process in processes.running)
