"""The outbox on its own, on SQLite and PostgreSQL, without a bot: due invitations and
reminders claimed in batches, contact hours, the sender's lease, claims a dead sender left
behind coming back after their time (and not before), and outcomes recorded in groups."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from storage.lease import hold_lease
from storage.models import (
    Citizen,
    CitizenStatus,
    Delivery,
    DeliveryStatus,
    Respondent,
    RoundAudience,
    TelegramAccount,
    Unit,
)
from surveys.fieldwork import outbox, rounds
from surveys.fieldwork.outbox import (
    RETRY_AFTER_FAULT,
    STALE_CLAIM,
    ContactHours,
    Kind,
    Outcome,
    Outgoing,
    Result,
)
from surveys.questionnaire.loader import load_surveys

# A Monday at 10:00 Danish time (winter: UTC+1).
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = "outbox-test"
TTL = timedelta(seconds=30)
_user_ids = itertools.count(500_000)


async def _round(
    sessions: async_sessionmaker[AsyncSession],
    people: int,
    *,
    reminder_days: tuple[int, ...] = (3, 7),
) -> list[int]:
    """A unit with ``people`` relatives who joined the bot, and a round for them opened at
    T0: the ids of their pending deliveries, oldest first."""
    async with sessions() as session:
        unit = Unit(name=f"Plejecenter {next(_user_ids)}", kind="care_home")
        session.add(unit)
        await session.flush()
        for number in range(people):
            user_id = next(_user_ids)
            citizen = Citizen(unit_id=unit.id, first_name=f"Borger{number}")
            account = TelegramAccount(
                telegram_user_id=user_id, chat_id=user_id, locale="da", informed_at=T0
            )
            session.add_all([citizen, account])
            await session.flush()
            session.add(Respondent(kind="relative", citizen_id=citizen.id, account_id=account.id))
        await session.flush()
        round_, invited = await rounds.start_round(
            session,
            load_surveys()["standard"],
            [unit],
            RoundAudience.RELATIVES,
            T0 + timedelta(days=14),
            now=T0,
            reminder_days=(3, 7),
        )
        await session.commit()
        assert invited == people
        ids = await session.scalars(
            select(Delivery.id).where(Delivery.round_id == round_.id).order_by(Delivery.id)
        )
        return list(ids)


async def _claim(
    sessions: async_sessionmaker[AsyncSession], limit: int, now: datetime
) -> list[Outgoing]:
    async with sessions() as session:
        claimed = await outbox.claim_due(session, limit, now=now)
        await session.commit()
    return claimed


async def _record(
    sessions: async_sessionmaker[AsyncSession], outcomes: list[Outcome], now: datetime
) -> None:
    async with sessions() as session:
        await outbox.record(session, outcomes, now)
        await session.commit()


async def _deliveries(sessions: async_sessionmaker[AsyncSession], ids: list[int]) -> list[Delivery]:
    async with sessions() as session:
        found = await session.scalars(select(Delivery).where(Delivery.id.in_(ids)))
        by_id = {delivery.id: delivery for delivery in found}
    return [by_id[delivery_id] for delivery_id in ids]


@contextmanager
def statements_of(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent while inside; an executemany is one call to the driver."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


# ------------------------------------------------------------------ claim


async def test_due_invitations_are_claimed_in_batches_oldest_first_each_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _round(sessions, 5)
    now = T0 + timedelta(minutes=1)

    batches = [await _claim(sessions, 2, now) for _ in range(4)]

    assert [[m.delivery_id for m in batch] for batch in batches] == [
        ids[0:2],
        ids[2:4],
        ids[4:5],
        [],
    ]
    claimed = [message for batch in batches for message in batch]
    assert {m.kind for m in claimed} == {Kind.INVITATION}
    assert {m.attempts for m in claimed} == {1}
    assert {m.reminder_days for m in claimed} == {(3, 7)}
    assert {m.closes_at for m in claimed} == {T0 + timedelta(days=14)}
    for delivery in await _deliveries(sessions, ids):
        assert (delivery.status, delivery.claimed_at, delivery.attempts) == (
            DeliveryStatus.SENDING,
            now,
            1,
        )


async def test_a_claim_passes_over_who_may_not_be_contacted_and_closed_rounds(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _round(sessions, 4)
    async with sessions() as session:
        stopped, moved, waiting, due = await _deliveries(sessions, ids)
        account = select(Respondent.account_id).where(Respondent.id == stopped.respondent_id)
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account.scalar_subquery())
            .values(stopped_at=T0)
        )
        citizen = select(Respondent.citizen_id).where(Respondent.id == moved.respondent_id)
        await session.execute(
            update(Citizen)
            .where(Citizen.id == citizen.scalar_subquery())
            .values(status=CitizenStatus.MOVED)
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.id == waiting.id)
            .values(next_attempt_at=T0 + timedelta(hours=1))
        )
        await session.commit()

    assert [m.delivery_id for m in await _claim(sessions, 10, T0 + timedelta(minutes=1))] == [
        due.id
    ]
    # The one waiting for its retry is due at its time; no one is due once the round closed.
    assert [m.delivery_id for m in await _claim(sessions, 10, T0 + timedelta(hours=1))] == [
        waiting.id
    ]
    ids_after_closing = await _round(sessions, 2)
    assert await _claim(sessions, 10, T0 + timedelta(days=14)) == []
    for delivery in await _deliveries(sessions, ids_after_closing):
        assert delivery.status == DeliveryStatus.PENDING


async def test_a_reminder_is_claimed_once_when_due_after_a_sent_invitation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    [delivery_id] = await _round(sessions, 1)
    sent_at = T0 + timedelta(minutes=1)
    [invitation] = await _claim(sessions, 10, sent_at)
    await _record(sessions, [Outcome(invitation, Result.SENT)], sent_at)

    assert await _claim(sessions, 10, sent_at + timedelta(days=3) - timedelta(seconds=1)) == []
    [reminder] = await _claim(sessions, 10, sent_at + timedelta(days=3))
    assert (reminder.kind, reminder.delivery_id, reminder.reminder_number) == (
        Kind.REMINDER,
        delivery_id,
        1,
    )
    # Claimed means counted: the next one is due 7 days after the invitation, not now.
    assert await _claim(sessions, 10, sent_at + timedelta(days=3)) == []
    [delivery] = await _deliveries(sessions, [delivery_id])
    assert (delivery.reminders_sent, delivery.next_reminder_at) == (1, sent_at + timedelta(days=7))
    [second] = await _claim(sessions, 10, sent_at + timedelta(days=7))
    assert second.reminder_number == 2
    assert await _claim(sessions, 10, sent_at + timedelta(days=13)) == []


async def test_two_senders_claiming_at_once_never_take_the_same_invitation(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: a second claim waits for the first")
    ids = await _round(sessions, 5)
    now = T0 + timedelta(minutes=1)
    async with sessions() as first, sessions() as second:
        # The first claim's rows stay locked until it commits; the second skips them.
        mine = await outbox.claim_due(first, 3, now=now)
        theirs = await outbox.claim_due(second, 5, now=now)
        await first.commit()
        await second.commit()

    assert [m.delivery_id for m in mine] == ids[:3]
    assert [m.delivery_id for m in theirs] == ids[3:]


# ------------------------------------------------------------------ contact hours


def test_contact_hours_count_in_danish_time_summer_and_winter() -> None:
    hours = ContactHours(9, 19)
    winter, summer = datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 7, 13, tzinfo=UTC)
    # 09:00 Danish time is 08:00 UTC in winter and 07:00 UTC in summer.
    assert not hours.allows(winter.replace(hour=7, minute=59))
    assert hours.allows(winter.replace(hour=8))
    assert hours.allows(summer.replace(hour=7))
    assert hours.allows(summer.replace(hour=16, minute=59))
    assert not hours.allows(summer.replace(hour=17))  # 19:00 in Copenhagen
    assert ContactHours(0, 24).allows(winter.replace(hour=2))


def test_outside_contact_hours_the_next_opening_is_the_next_morning_at_nine() -> None:
    hours = ContactHours(9, 19)
    night = datetime(2026, 1, 12, 2, 30, tzinfo=UTC)  # 03:30 in Copenhagen
    evening = datetime(2026, 7, 13, 18, 0, tzinfo=UTC)  # 20:00 in Copenhagen
    inside = datetime(2026, 7, 13, 10, 15, tzinfo=UTC)

    assert hours.next_opening(night) == datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    assert hours.next_opening(evening) == datetime(2026, 7, 14, 7, 0, tzinfo=UTC)
    assert hours.next_opening(inside) == inside


@pytest.mark.parametrize("text", ["19-09", "9", "08-25", "aa-bb", "10-10"])
def test_contact_hours_refuse_a_window_that_is_not_one(text: str) -> None:
    with pytest.raises(ValueError):
        Settings(contact_hours=text)


# ------------------------------------------------------------------ the lease and reclaim


async def test_claims_of_a_dead_sender_come_back_when_its_lease_runs_out_not_before(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _round(sessions, 3)
    now = T0 + timedelta(minutes=1)
    async with sessions() as session:
        # The first holder takes over from no one: (held, not fresh).
        assert await hold_lease(session, LEASE, "dead", now, TTL) == (True, False)
        await session.commit()
    claimed = await _claim(sessions, 10, now)  # ... and then the sender dies
    assert [m.delivery_id for m in claimed] == ids

    # While its lease runs, another process is not the sender, and the claims stay put.
    before_expiry = now + TTL - timedelta(seconds=1)
    async with sessions() as session:
        assert await hold_lease(session, LEASE, "next", before_expiry, TTL) == (False, False)
        await session.commit()
    assert await _claim(sessions, 10, before_expiry) == []

    later = now + TTL + timedelta(seconds=1)
    async with sessions() as session:
        # Taking over is what tells the new sender to put the old claims back.
        assert await hold_lease(session, LEASE, "next", later, TTL) == (True, True)
        assert await outbox.reclaim_abandoned(session) == len(ids)
        await session.commit()
    again = await _claim(sessions, 10, later)
    assert [m.delivery_id for m in again] == ids
    assert {m.attempts for m in again} == {2}


async def test_the_holder_renews_its_lease_and_another_waits_until_it_is_released(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await hold_lease(session, LEASE, "a", T0, TTL) == (True, False)
        assert await hold_lease(session, LEASE, "a", T0 + TTL / 2, TTL) == (True, False)
        # Renewed at T0 + TTL/2: still "a"'s a moment after the first term would have ended.
        assert await hold_lease(session, LEASE, "b", T0 + TTL + timedelta(seconds=1), TTL) == (
            False,
            False,
        )
        assert await hold_lease(
            session, LEASE, "b", T0 + TTL * 1.5 + timedelta(seconds=1), TTL
        ) == (
            True,
            True,
        )
        await session.commit()


async def test_claims_left_by_a_failed_tick_come_back_after_the_stale_time_not_before(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _round(sessions, 3)
    now = T0 + timedelta(minutes=1)
    await _claim(sessions, 3, now)

    async with sessions() as session:
        assert await outbox.reclaim_abandoned(session, now) == 0  # claimed at now, not before
        await session.commit()
    assert await _claim(sessions, 10, now + STALE_CLAIM) == []
    async with sessions() as session:
        moment = now + STALE_CLAIM + timedelta(seconds=1)
        assert await outbox.reclaim_abandoned(session, moment - STALE_CLAIM) == 3
        await session.commit()
    for delivery in await _deliveries(sessions, ids):
        assert delivery.status == DeliveryStatus.PENDING
    assert [m.delivery_id for m in await _claim(sessions, 10, moment)] == ids


# ------------------------------------------------------------------ record


async def test_outcomes_are_recorded_each_as_it_went(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _round(sessions, 5)
    now = T0 + timedelta(minutes=1)
    sent, refused, blocked, flaky, unsent = await _claim(sessions, 10, now)

    await _record(
        sessions,
        [
            Outcome(sent, Result.SENT),
            Outcome(refused, Result.FAILED, "Bad Request: chat not found"),
            Outcome(blocked, Result.GONE),
            Outcome(flaky, Result.RETRY, "ServerDisconnectedError"),
            Outcome(unsent, Result.UNSENT),
        ],
        now,
    )

    a, b, c, d, e = await _deliveries(sessions, ids)
    assert (a.status, a.sent_at, a.next_reminder_at, a.last_error) == (
        DeliveryStatus.SENT,
        now,
        now + timedelta(days=3),
        None,
    )
    assert (b.status, b.last_error, b.sent_at) == (
        DeliveryStatus.FAILED,
        "Bad Request: chat not found",
        None,
    )
    assert (c.status, c.last_error) == (DeliveryStatus.FAILED, "blocked by the user")
    assert (d.status, d.last_error, d.next_attempt_at, d.attempts) == (
        DeliveryStatus.PENDING,
        "ServerDisconnectedError",
        now + RETRY_AFTER_FAULT,
        0,
    )
    assert (e.status, e.attempts, e.last_error) == (DeliveryStatus.PENDING, 0, None)
    async with sessions() as session:
        stopped = dict(
            (
                await session.execute(
                    select(Delivery.id, TelegramAccount.stopped_at)
                    .join(Respondent, Respondent.id == Delivery.respondent_id)
                    .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
                )
            ).all()
        )
    # Blocked: that person is never contacted again; the others are left as they were.
    assert stopped == {a.id: None, b.id: None, c.id: now, d.id: None, e.id: None}

    # The one put back is due at once, the flaky one after its pause.
    assert [m.delivery_id for m in await _claim(sessions, 10, now)] == [e.id]
    assert await _claim(sessions, 10, now + RETRY_AFTER_FAULT - timedelta(seconds=1)) == []
    [retried] = await _claim(sessions, 10, now + RETRY_AFTER_FAULT)
    assert (retried.delivery_id, retried.attempts) == (d.id, 1)


async def test_a_temporary_fault_never_fails_an_invitation_while_its_round_is_open(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    [delivery_id] = await _round(sessions, 1)
    moment = T0 + timedelta(minutes=1)
    for _ in range(10):
        [message] = await _claim(sessions, 10, moment)
        assert message.attempts == 1  # nothing charged for the faults before
        await _record(sessions, [Outcome(message, Result.RETRY, "timeout")], moment)
        moment += RETRY_AFTER_FAULT

    [delivery] = await _deliveries(sessions, [delivery_id])
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.PENDING,
        0,
        "timeout",
    )
    [message] = await _claim(sessions, 10, moment)
    assert message.delivery_id == delivery_id


async def test_a_failed_or_retried_reminder_leaves_the_invitation_as_it_was(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await _round(sessions, 2)
    now = T0 + timedelta(minutes=1)
    await _record(sessions, [Outcome(m, Result.SENT) for m in await _claim(sessions, 10, now)], now)
    due = now + timedelta(days=3)
    refused, flaky = await _claim(sessions, 10, due)

    await _record(
        sessions,
        [
            Outcome(refused, Result.FAILED, "Bad Request: message is too long"),
            Outcome(flaky, Result.RETRY, "timeout"),
        ],
        due,
    )

    a, b = await _deliveries(sessions, [first, second])
    assert (a.status, a.reminders_sent, a.next_reminder_at, a.last_error) == (
        DeliveryStatus.SENT,
        1,
        None,
        "Bad Request: message is too long",
    )
    # The retried reminder counts as not sent, and is due again after the fault's pause.
    assert (b.status, b.reminders_sent, b.next_reminder_at) == (
        DeliveryStatus.SENT,
        0,
        due + RETRY_AFTER_FAULT,
    )
    [again] = await _claim(sessions, 10, due + RETRY_AFTER_FAULT)
    assert (again.delivery_id, again.reminder_number) == (second, 1)


async def test_a_group_of_outcomes_is_recorded_with_one_statement_per_kind(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = await _round(sessions, 30)
    now = T0 + timedelta(minutes=1)
    claimed = await _claim(sessions, 30, now)

    with statements_of(engine) as all_sent:
        await _record(sessions, [Outcome(m, Result.SENT) for m in claimed[:20]], now)
    kinds = [Result.FAILED, Result.RETRY, Result.UNSENT, Result.SENT, Result.GONE]
    with statements_of(engine) as mixed:
        await _record(
            sessions,
            [Outcome(m, kinds[n % len(kinds)], "why") for n, m in enumerate(claimed[20:])],
            now,
        )

    updates = [s for s in all_sent if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1, all_sent
    # One each for failed, retry, unsent and sent; two for gone (the delivery, the person).
    assert len([s for s in mixed if s.lstrip().upper().startswith("UPDATE")]) == 6, mixed
    statuses = [d.status for d in await _deliveries(sessions, ids)]
    assert statuses[:20] == [DeliveryStatus.SENT] * 20
    assert (
        statuses[20:]
        == [
            DeliveryStatus.FAILED,
            DeliveryStatus.PENDING,
            DeliveryStatus.PENDING,
            DeliveryStatus.SENT,
            DeliveryStatus.FAILED,
        ]
        * 2
    )
