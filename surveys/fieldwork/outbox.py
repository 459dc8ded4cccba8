"""The outbox: invitations and reminders are written to the database first, and a single
elected sender works through them, so a crash or a second process loses or doubles
no one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    Citizen,
    CitizenStatus,
    Delivery,
    DeliveryStatus,
    Respondent,
    Round,
    TelegramAccount,
)
from storage.types import utcnow
from surveys.clock import DANISH_TIME
from surveys.fieldwork.rounds import is_open, next_reminder

# A claim older than this, still unrecorded when a tick starts, is from a tick that
# failed half-way: its invitations go back to the outbox.
STALE_CLAIM = timedelta(minutes=2)
# A message that met a temporary failure waits this long before it is tried again, so the
# sender's probe after a pause is another message, and one message Telegram keeps failing
# cannot hold up the rest.
RETRY_AFTER_FAULT = timedelta(minutes=3)
# The table itself, for UPDATEs run once per row (executemany) outside the ORM.
_DELIVERIES: Table = Delivery.metadata.tables[Delivery.__tablename__]


class Kind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


@dataclass(frozen=True)
class Outgoing:
    """One message to send: an invitation or a reminder, where to, in which language."""

    kind: Kind
    delivery_id: int
    chat_id: int
    locale: str | None
    closes_at: datetime
    reminder_number: int = 0
    attempts: int = 0  # sending attempts of an invitation, this one included
    reminder_days: tuple[int, ...] = ()  # the round's, to schedule reminders once sent


@dataclass(frozen=True)
class ContactHours:
    """The hours of the day (Danish time) in which people may be contacted, [start, end)."""

    start: int = 9
    end: int = 19

    def allows(self, moment: datetime) -> bool:
        """True when ``moment`` falls inside the window."""
        local = moment.astimezone(DANISH_TIME)
        return self.start <= local.hour < self.end

    def next_opening(self, moment: datetime) -> datetime:
        """The first moment at or after ``moment`` inside the window."""
        if self.allows(moment):
            return moment
        local = moment.astimezone(DANISH_TIME)
        opening = local.replace(hour=self.start, minute=0, second=0, microsecond=0)
        if local.hour >= self.end:
            opening += timedelta(days=1)
        return opening.astimezone(moment.tzinfo)


def _reachable() -> ColumnElement[bool]:
    """The person still takes part: informed, not stopped, and their citizen still here."""
    return and_(
        TelegramAccount.informed_at.is_not(None),
        TelegramAccount.stopped_at.is_(None),
        Citizen.status == CitizenStatus.ACTIVE,
    )


async def reclaim_abandoned(session: AsyncSession, claimed_before: datetime | None = None) -> int:
    """Put claimed-but-unrecorded invitations back in the outbox: all of them, or those
    claimed before ``claimed_before``.

    All: by a sender that has just taken over from another, since whatever that one had
    claimed was either never sent or in flight at the moment it died. The old ones: by
    the sender at the start of a tick, when nothing of its own is in flight, for what a
    tick that failed half-way left behind.
    """
    stale = Delivery.claimed_at < claimed_before if claimed_before is not None else true()
    result = await session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.SENDING, stale)
        .values(status=DeliveryStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim_due(
    session: AsyncSession, limit: int, *, now: datetime | None = None
) -> list[Outgoing]:
    """Claim up to ``limit`` due invitations and reminders, oldest first.

    Each claim is a guarded update, so even two senders never take the same one; a whole
    batch is claimed in one statement (two for reminders), not one per message.
    """
    now = now or utcnow()
    claimed = await _claim_invitations(session, limit, now)
    if len(claimed) < limit:
        claimed += await _claim_reminders(session, limit - len(claimed), now)
    return claimed


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def _with_recipient(statement: _Query, delivery: Any = Delivery) -> _Query:
    """``statement`` with a delivery joined to its respondent, citizen, Telegram account
    and round: who a message goes to, and what they are asked about.

    The inner join on the Telegram account keeps out the deliveries of people reached by
    letter (no Telegram account): the sender never claims them, and the outbox's depth
    never counts them (their delivery is sent when the round starts; see
    surveys.fieldwork.rounds.invite_eligible)."""
    return (
        statement.join(Respondent, Respondent.id == delivery.respondent_id)
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
        .join(Round, Round.id == delivery.round_id)
    )


def _due_invitations(now: datetime, limit: int) -> Select[int]:
    """The ids of the invitations due now, locked for this transaction (PostgreSQL skips
    the ones another sender holds; SQLite has one writer at a time and needs no lock)."""
    due = aliased(Delivery)
    return (
        _with_recipient(select(due.id), due)
        .where(
            # Not the ones claimed long ago and never recorded: the sender may still have
            # them in flight (see reclaim_abandoned).
            due.status == DeliveryStatus.PENDING,
            (due.next_attempt_at.is_(None)) | (due.next_attempt_at <= now),
            is_open(now),
            _reachable(),
        )
        .order_by(due.id)
        .limit(limit)
        .with_for_update(of=due, skip_locked=True)
    )


async def _claim_invitations(session: AsyncSession, limit: int, now: datetime) -> list[Outgoing]:
    # One UPDATE ... WHERE id IN (due, locked) ... RETURNING claims the whole batch; the
    # status guard holds even if another sender claimed a row since (SQLite >= 3.35).
    won = await session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(_due_invitations(now, limit).scalar_subquery()),
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
        )
        .values(status=DeliveryStatus.SENDING, claimed_at=now, attempts=Delivery.attempts + 1)
        .returning(Delivery.id, Delivery.attempts)
        .execution_options(synchronize_session=False)
    )
    attempts = {delivery_id: count for delivery_id, count in won.all()}
    if not attempts:
        return []
    # What the messages need, for the rows this sender now owns. (SQLite's RETURNING may
    # name only the updated table, so this is a read of its own, once per batch.)
    rows = await session.execute(
        _with_recipient(
            select(
                Delivery.id,
                TelegramAccount.chat_id,
                TelegramAccount.locale,
                Round.closes_at,
                Round.reminder_days,
            )
        )
        .where(Delivery.id.in_(attempts))
        .order_by(Delivery.id)
    )
    return [
        Outgoing(
            Kind.INVITATION,
            delivery_id,
            chat_id,
            locale,
            closes_at,
            attempts=attempts[delivery_id],
            reminder_days=tuple(days or ()),
        )
        for delivery_id, chat_id, locale, closes_at, days in rows.all()
    ]


async def _claim_reminders(session: AsyncSession, limit: int, now: datetime) -> list[Outgoing]:
    candidates = (
        await session.execute(
            _with_recipient(
                select(
                    Delivery.id,
                    Delivery.reminders_sent,
                    Delivery.sent_at,
                    Round.reminder_days,
                    TelegramAccount.chat_id,
                    TelegramAccount.locale,
                    Round.closes_at,
                )
            )
            .where(
                Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.STARTED)),
                Delivery.next_reminder_at <= now,
                is_open(now),
                _reachable(),
            )
            .order_by(Delivery.next_reminder_at, Delivery.id)
            .limit(limit)
            .with_for_update(of=Delivery, skip_locked=True)
        )
    ).all()
    if not candidates:
        return []
    # The next reminder's time comes from the round's days (Python), so one UPDATE sets
    # each row's own value with a CASE, guarded by the count read above.
    by_id = {row[0]: row for row in candidates}
    sent_type = _DELIVERIES.c.reminders_sent.type
    next_type = _DELIVERIES.c.next_reminder_at.type
    rows = await session.execute(
        update(Delivery)
        .where(
            Delivery.id.in_(by_id),
            Delivery.reminders_sent
            == case(
                {delivery_id: literal(row[1], sent_type) for delivery_id, row in by_id.items()},
                value=Delivery.id,
            ),
        )
        .values(
            reminders_sent=Delivery.reminders_sent + 1,
            next_reminder_at=case(
                {
                    delivery_id: literal(
                        next_reminder(sent_at, days, sent + 1) if sent_at else None, next_type
                    )
                    for delivery_id, sent, sent_at, days, *_ in candidates
                },
                value=Delivery.id,
            ),
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    won = set(rows.scalars().all())
    return [
        Outgoing(Kind.REMINDER, delivery_id, chat_id, locale, closes_at, sent + 1)
        for delivery_id, sent, _, _, chat_id, locale, closes_at in candidates
        if delivery_id in won
    ]


@dataclass(frozen=True)
class OutboxDepth:
    """What waits in the outbox of the open rounds at one moment (operators' figures)."""

    invitations_due: int = 0  # may go out now, or at the next contact hour
    invitations_later: int = 0  # back after a temporary failure, due again later
    invitations_sending: int = 0  # claimed by the sender: in flight
    reminders_due: int = 0


async def depth(session: AsyncSession, now: datetime | None = None) -> OutboxDepth:
    """Count what waits to be sent in the open rounds to people still taking part, with
    one statement (for /metrics, read at each scrape)."""
    now = now or utcnow()
    pending = Delivery.status == DeliveryStatus.PENDING
    later = and_(Delivery.next_attempt_at.is_not(None), Delivery.next_attempt_at > now)
    reminder_due = and_(
        Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.STARTED)),
        Delivery.next_reminder_at <= now,
    )
    counts = (
        await session.execute(
            _with_recipient(
                select(
                    func.count().filter(pending, ~later),
                    func.count().filter(pending, later),
                    func.count().filter(Delivery.status == DeliveryStatus.SENDING),
                    func.count().filter(reminder_due),
                ).select_from(Delivery)
            ).where(
                is_open(now),
                _reachable(),
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING))
                | reminder_due,
            )
        )
    ).one()
    return OutboxDepth(*(int(count or 0) for count in counts))


class Result(StrEnum):
    """What became of one attempt to send a message."""

    SENT = "sent"  # Telegram took it
    FAILED = "failed"  # a 400: refused for good
    GONE = "gone"  # a 403: the person blocked the bot
    RETRY = "retry"  # network, timeout or 5xx: back in the outbox, due again a while later
    UNSENT = "unsent"  # not sent (429s, or the sender stops): back in the outbox as it was


@dataclass(frozen=True)
class Outcome:
    """One message and what became of it, waiting to be recorded with others."""

    message: Outgoing
    result: Result
    reason: str = ""


async def record(
    session: AsyncSession,
    outcomes: Sequence[Outcome],
    now: datetime | None = None,
    *,
    retry_after: timedelta = RETRY_AFTER_FAULT,
) -> None:
    """Write the outcomes of a group of sends: one statement for each kind of outcome
    present (all sent, usually), whatever the number of messages. Messages that met a
    temporary failure are due again ``retry_after`` from ``now``."""
    now = now or utcnow()
    by_result: dict[Result, list[Outcome]] = {}
    for outcome in outcomes:
        by_result.setdefault(outcome.result, []).append(outcome)
    for result, group in by_result.items():
        messages = [outcome.message for outcome in group]
        if result == Result.SENT:
            await mark_sent(session, messages, now)
        elif result == Result.FAILED:
            await mark_failed(session, [(o.message, o.reason) for o in group])
        elif result == Result.GONE:
            await mark_gone(session, messages, now)
        elif result == Result.RETRY:
            await retry_later(session, [(o.message, o.reason) for o in group], now, retry_after)
        else:
            await send_again(session, messages, now)


def _by_id(**values: object) -> Update:
    """An UPDATE of one delivery by ``b_id``, run once per row (executemany)."""
    return (
        update(_DELIVERIES)
        .where(_DELIVERIES.c.id == bindparam("b_id"))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_sent(
    session: AsyncSession, messages: Sequence[Outgoing], now: datetime | None = None
) -> None:
    """The messages reached Telegram; an invitation's reminders are scheduled from now."""
    now = now or utcnow()
    invitations = [m for m in messages if m.kind == Kind.INVITATION]
    if not invitations:
        return  # a reminder's count and next time were set when it was claimed
    await session.execute(
        _by_id(
            status=DeliveryStatus.SENT,
            sent_at=now,
            updated_at=now,
            last_error=None,
            next_attempt_at=None,
            next_reminder_at=bindparam("b_next"),
        ).where(_DELIVERIES.c.status == DeliveryStatus.SENDING),
        [
            {"b_id": m.delivery_id, "b_next": next_reminder(now, list(m.reminder_days), 0)}
            for m in invitations
        ],
    )


async def mark_failed(session: AsyncSession, failures: Sequence[tuple[Outgoing, str]]) -> None:
    """Telegram refused these messages for good (a 400): keep the reason, send no more.

    A failed reminder leaves the invitation as it was (sent or started)."""
    for kind, status in ((Kind.INVITATION, DeliveryStatus.FAILED), (Kind.REMINDER, None)):
        rows = [
            {"b_id": m.delivery_id, "b_reason": reason[:300]}
            for m, reason in failures
            if m.kind == kind
        ]
        if not rows:
            continue
        values: dict[str, object] = {"last_error": bindparam("b_reason"), "next_reminder_at": None}
        if status is not None:
            values["status"] = status
        await session.execute(_by_id(**values), rows)


async def mark_gone(
    session: AsyncSession, messages: Sequence[Outgoing], now: datetime | None = None
) -> None:
    """These people blocked the bot (a 403): stop sending to them altogether."""
    now = now or utcnow()
    await mark_failed(session, [(m, "blocked by the user") for m in messages])
    accounts = (
        select(Respondent.account_id)
        .join(Delivery, Delivery.respondent_id == Respondent.id)
        .where(Delivery.id.in_([m.delivery_id for m in messages]))
    )
    await session.execute(
        update(TelegramAccount)
        .where(TelegramAccount.id.in_(accounts.scalar_subquery()))
        .values(stopped_at=now)
        .execution_options(synchronize_session=False)
    )


async def retry_later(
    session: AsyncSession,
    failures: Sequence[tuple[Outgoing, str]],
    now: datetime | None = None,
    after: timedelta = RETRY_AFTER_FAULT,
) -> None:
    """A temporary failure (network, timeout, 5xx) met these messages: they go back to the
    outbox, due again ``after`` from now, with the reason kept. No attempt is charged and
    none is failed for it: while the round is open, they will go out."""
    now = now or utcnow()
    reminders = [m for m, _ in failures if m.kind == Kind.REMINDER]
    if reminders:
        await session.execute(
            _by_id(reminders_sent=bindparam("b_sent"), next_reminder_at=now + after).where(
                _DELIVERIES.c.reminders_sent == bindparam("b_number")
            ),
            [
                {
                    "b_id": m.delivery_id,
                    "b_sent": m.reminder_number - 1,
                    "b_number": m.reminder_number,
                }
                for m in reminders
            ],
        )
    invitations = [(m, r) for m, r in failures if m.kind == Kind.INVITATION]
    if invitations:
        await session.execute(
            _by_id(
                status=DeliveryStatus.PENDING,
                attempts=_DELIVERIES.c.attempts - 1,
                last_error=bindparam("b_reason"),
                next_attempt_at=now + after,
            ).where(_DELIVERIES.c.status == DeliveryStatus.SENDING),
            [{"b_id": m.delivery_id, "b_reason": r[:300]} for m, r in invitations],
        )


async def send_again(
    session: AsyncSession, messages: Sequence[Outgoing], now: datetime | None = None
) -> None:
    """Put claimed messages back untouched (after 429s, or when this sender stops).

    Guarded: if another sender has taken a message over meanwhile, nothing changes."""
    now = now or utcnow()
    invitations = [m.delivery_id for m in messages if m.kind == Kind.INVITATION]
    reminders = [m for m in messages if m.kind == Kind.REMINDER]
    if invitations:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(invitations), Delivery.status == DeliveryStatus.SENDING)
            .values(status=DeliveryStatus.PENDING, attempts=Delivery.attempts - 1)
            .execution_options(synchronize_session=False)
        )
    if reminders:
        await session.execute(
            _by_id(reminders_sent=bindparam("b_sent"), next_reminder_at=now).where(
                _DELIVERIES.c.reminders_sent == bindparam("b_number")
            ),
            [
                {
                    "b_id": m.delivery_id,
                    "b_sent": m.reminder_number - 1,
                    "b_number": m.reminder_number,
                }
                for m in reminders
            ],
        )
