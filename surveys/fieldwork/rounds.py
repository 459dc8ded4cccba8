"""Survey rounds: opening one and deciding who is invited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    null,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ROUND_AUDIENCES
from storage.models import (
    Citizen,
    CitizenStatus,
    Delivery,
    DeliveryStatus,
    Respondent,
    Round,
    RoundAudience,
    RoundDeliveryTally,
    RoundParticipant,
    SurveyVersion,
    TelegramAccount,
    Unit,
    WebAccount,
    round_units,
)
from storage.types import utcnow
from storage.upsert import insert_select_ignoring_conflicts
from surveys.errors import PejlingError, Problem
from surveys.fieldwork.definitions import load_version, store_version
from surveys.fieldwork.tallies import tally_round
from surveys.questionnaire.schema import Survey


def is_open(now: datetime) -> ColumnElement[bool]:
    """SQL condition: the round takes answers at ``now``."""
    return and_(Round.closed_at.is_(None), Round.opens_at <= now, Round.closes_at > now)


async def start_round(
    session: AsyncSession,
    survey: Survey,
    units: Sequence[Unit],
    audience: RoundAudience,
    closes_at: datetime,
    *,
    now: datetime | None = None,
    started_by: str = "cli",
    schedule_id: int | None = None,
    reminder_days: Sequence[int] = (3, 7),
    anonymous: bool = True,
) -> tuple[Round, int]:
    """Open a round and write a delivery for everyone in it: pending in the outbox for
    Telegram users, sent at once for people reached by letter (``invite_eligible``).

    Returns the round and the number of people invited; a person is invited at most
    once per round however often this runs.
    """
    now = now or utcnow()
    if not units:
        raise PejlingError(Problem.NO_UNITS)
    if closes_at <= now:
        raise PejlingError(Problem.CLOSING_IN_PAST)
    wanted = set(ROUND_AUDIENCES[audience])
    if not wanted & set(survey.audiences):
        raise PejlingError(Problem.NO_ITEMS_FOR_AUDIENCE, survey=survey.id, audience=audience)
    if len(reminder_days) > 2 or any(day < 1 for day in reminder_days):
        raise PejlingError(Problem.BAD_REMINDERS)
    version = await store_version(session, survey)
    round_ = Round(
        survey_version_id=version.id,
        audience=audience,
        opens_at=now,
        closes_at=closes_at,
        units=list(units),
        started_by=started_by,
        schedule_id=schedule_id,
        reminder_days=sorted(reminder_days),
        anonymous=anonymous,
    )
    session.add(round_)
    await session.flush()
    invited = await invite_eligible(session, round_)
    return round_, invited


def _in_round(
    unit_ids: Sequence[int], kinds: Sequence[str], round_id: int | None
) -> Select[int, int, str, str]:
    """People of these units and kinds whose citizen is still in care and who are not
    already invited to this round; each channel adds who it can reach."""
    query = (
        select(Respondent.id, Citizen.unit_id, Respondent.kind, Unit.kind)
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(Unit, Unit.id == Citizen.unit_id)
        .where(
            Citizen.unit_id.in_(list(unit_ids)),
            Respondent.kind.in_(list(kinds)),
            Citizen.status == CitizenStatus.ACTIVE,
        )
    )
    if round_id is not None:
        query = query.where(
            ~exists().where(
                RoundParticipant.round_id == round_id,
                RoundParticipant.respondent_id == Respondent.id,
            )
        )
    return query


def _eligible(
    unit_ids: Sequence[int], kinds: Sequence[str], round_id: int | None = None
) -> Select[int, int, str, str]:
    """Who a round reaches in Telegram: onboarded, informed, not stopped, their citizen
    still in care, and not already invited to this round."""
    return (
        _in_round(unit_ids, kinds, round_id)
        .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
        .where(TelegramAccount.informed_at.is_not(None), TelegramAccount.stopped_at.is_(None))
    )


def _eligible_by_letter(
    unit_ids: Sequence[int], kinds: Sequence[str], round_id: int | None = None
) -> Select[int, int, str, str]:
    """Who a round reaches by letter: people with no Telegram account who accepted the
    information on the web and have not stopped there. A person with both is reached
    in Telegram (``_eligible``), once."""
    return (
        _in_round(unit_ids, kinds, round_id)
        .join(WebAccount, WebAccount.respondent_id == Respondent.id)
        .where(
            Respondent.account_id.is_(None),
            WebAccount.informed_at.is_not(None),
            WebAccount.stopped_at.is_(None),
        )
    )


async def count_eligible(
    session: AsyncSession, unit_ids: Sequence[int], audience: RoundAudience
) -> int:
    """How many people a round would invite now, in Telegram and by letter (for the
    summary before starting it)."""
    total = 0
    for eligible in (_eligible, _eligible_by_letter):
        query = eligible(unit_ids, ROUND_AUDIENCES[audience]).subquery()
        total += int(await session.scalar(select(func.count()).select_from(query)) or 0)
    return total


_SENT_AT = Delivery.metadata.tables[Delivery.__tablename__].c.sent_at.type
_DELIVERY_COLUMNS = (
    "round_id",
    "respondent_id",
    "unit_id",
    "audience",
    "unit_kind",
    "status",
    "sent_at",
    "position",
    "proxy",
    "attempts",
    "reminders_sent",
    "invited_at",
    "updated_at",
)


async def invite_eligible(session: AsyncSession, round_: Round) -> int:
    """Write a delivery for every reachable person in the round: a pending one (the
    outbox) for Telegram users, a sent one for people reached by letter.

    INSERT ... SELECT, skipping people already invited: at most once per round.
    """
    unit_ids = (
        (
            await session.execute(
                select(round_units.c.unit_id).where(round_units.c.round_id == round_.id)
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    kinds = ROUND_AUDIENCES[round_.audience]
    # People without Telegram are reached by letter: the letter (or the printed reminder)
    # in their hands is the invitation, so their delivery is sent from the round's start,
    # nothing waits in the outbox for them, and no reminder is scheduled for the sender
    # (the outbox joins a Telegram account and finds none). Their reminders are printed
    # (`pejling invite reminders`), and their next web visit resumes this delivery; if
    # they link Telegram with the letter before finishing, the chat reminds them from
    # then on (remind_in_chat).
    by_channel = (
        (_eligible(unit_ids, kinds, round_.id), DeliveryStatus.PENDING, None),
        (_eligible_by_letter(unit_ids, kinds, round_.id), DeliveryStatus.SENT, round_.opens_at),
    )
    invited = 0
    for eligible, status, sent_at in by_channel:
        people = eligible.subquery()
        rows = select(
            literal(round_.id),
            people.c[0],
            people.c[1],
            people.c[2],
            people.c[3],
            literal(status.value),
            literal(sent_at, _SENT_AT) if sent_at else null(),
            literal(0),
            literal(False),
            literal(0),
            literal(0),
            literal(now),
            literal(now),
        ).where(true())  # SQLite needs a WHERE to tell INSERT ... SELECT from its ON CONFLICT
        invited += await insert_select_ignoring_conflicts(
            session, Delivery, _DELIVERY_COLUMNS, rows, conflict=("round_id", "respondent_id")
        )
    await _remember_participants(session, round_.id)
    return invited


async def _remember_participants(session: AsyncSession, round_id: int) -> None:
    """Note who was invited, apart from the deliveries, before any link is cut."""
    await insert_select_ignoring_conflicts(
        session,
        RoundParticipant,
        ("round_id", "respondent_id"),
        select(Delivery.round_id, Delivery.respondent_id).where(
            Delivery.round_id == round_id, Delivery.respondent_id.is_not(None)
        ),
        conflict=("round_id", "respondent_id"),
    )


async def cut_links(session: AsyncSession, round_id: int, delivery_id: int | None = None) -> int:
    """Anonymous rounds: forget who gave a delivery's answers (one delivery, or all of a
    round when it closes). The participants list still prevents a second invitation."""
    anonymous = await session.scalar(select(Round.anonymous).where(Round.id == round_id))
    if not anonymous:
        return 0
    query = update(Delivery).where(
        Delivery.round_id == round_id, Delivery.respondent_id.is_not(None)
    )
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    result = await session.execute(
        query.values(respondent_id=None).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def next_reminder(sent_at: datetime, days: list[int], already_sent: int) -> datetime | None:
    """When reminder number ``already_sent + 1`` is due; None when none is left (at most two)."""
    days = sorted(days)[:2]
    if already_sent >= len(days):
        return None
    return sent_at + timedelta(days=days[already_sent])


def reminders_ahead(
    sent_at: datetime, days: Sequence[int], now: datetime
) -> tuple[int, datetime | None]:
    """For a delivery sent at ``sent_at`` whose chat reminders begin only at ``now``: how
    many of the round's reminder days have passed (they are not made up), and when the
    next one is due (None when none is left)."""
    passed = sum(1 for day in sorted(days)[:2] if sent_at + timedelta(days=day) <= now)
    return passed, next_reminder(sent_at, list(days), passed)


async def remind_in_chat(
    session: AsyncSession, respondent_id: int, *, now: datetime | None = None
) -> int:
    """A person reached by letter has just linked Telegram: their unfinished deliveries
    of the open rounds get the chat reminders still ahead, on the round's days counted
    from when the round invited them (``sent_at``), as everyone's are. A day already
    past is not made up: they are in the chat now. Returns how many deliveries got one.

    A finished delivery gets none (and one of an anonymous round names nobody any
    more); only deliveries never scheduled for the sender are touched.
    """
    now = now or utcnow()
    rows = await session.execute(
        select(Delivery.id, Delivery.sent_at, Round.reminder_days)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            Delivery.respondent_id == respondent_id,
            Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.STARTED)),
            Delivery.sent_at.is_not(None),
            Delivery.next_reminder_at.is_(None),
            Delivery.reminders_sent == 0,
            is_open(now),
        )
    )
    scheduled = 0
    for delivery_id, sent_at, days in rows.all():
        assert sent_at is not None  # selected only with one
        passed, due = reminders_ahead(sent_at, days or (), now)
        if due is None:
            continue
        # reminders_sent counts the days dealt with, so the sender's next one after
        # this is the round's following day, not this one again.
        await session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.next_reminder_at.is_(None),
                Delivery.reminders_sent == 0,
            )
            .values(reminders_sent=passed, next_reminder_at=due)
            .execution_options(synchronize_session=False)
        )
        scheduled += 1
    return scheduled


async def enrol_respondent(
    session: AsyncSession, respondent: Respondent, *, now: datetime | None = None
) -> int:
    """Put a person who just joined into every round already open for them.

    They are in the chat (or on the web page) right now, so the deliveries start as
    sent: the first question follows at once instead of a separate invitation. Only a
    person with a Telegram account gets reminders scheduled for the sender; one without
    is reminded on paper, as at a round's start (``invite_eligible``), until they link
    Telegram (``remind_in_chat``).
    """
    now = now or utcnow()
    citizen = await session.get(Citizen, respondent.citizen_id)
    if citizen is None or citizen.status != CitizenStatus.ACTIVE:
        return 0
    unit = await session.get(Unit, citizen.unit_id)
    assert unit is not None
    audiences = [a for a, kinds in ROUND_AUDIENCES.items() if respondent.kind in kinds]
    rounds = await session.execute(
        select(Round.id, Round.reminder_days)
        .join(round_units, round_units.c.round_id == Round.id)
        .where(
            round_units.c.unit_id == unit.id,
            Round.audience.in_(audiences),
            is_open(now),
        )
    )
    created = 0
    for round_id, reminder_days in rounds:
        if await session.get(RoundParticipant, (round_id, respondent.id)) is not None:
            continue
        session.add(RoundParticipant(round_id=round_id, respondent_id=respondent.id))
        session.add(
            Delivery(
                round_id=round_id,
                respondent_id=respondent.id,
                unit_id=unit.id,
                audience=respondent.kind,
                unit_kind=unit.kind,
                status=DeliveryStatus.SENT,
                sent_at=now,
                next_reminder_at=(
                    next_reminder(now, list(reminder_days or []), 0)
                    if respondent.account_id is not None
                    else None
                ),
            )
        )
        created += 1
    await session.flush()
    return created


async def close_round(
    session: AsyncSession, round_id: int, *, now: datetime | None = None
) -> Round:
    """Close a round now; later presses get a polite 'closed'. Its answers are counted
    once into its tally, for the reports."""
    now = now or utcnow()
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise PejlingError(Problem.NO_ROUND, round_id=round_id)
    if round_.closed_at is None:
        round_.closed_at = now
        await session.flush()
    await cut_links(session, round_.id)
    await tally_round(
        session, await load_version(session, round_.survey_version_id), round_.id, now
    )
    await session.refresh(round_, ["tallied_at"])
    return round_


async def close_expired_rounds(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Mark rounds past their closing time as closed (they stopped taking answers
    already), and count each one's answers into its tally."""
    now = now or utcnow()
    due = (
        await session.execute(
            select(Round.id, Round.survey_version_id).where(
                Round.closed_at.is_(None), Round.closes_at <= now
            )
        )
    ).all()
    for round_id, version_id in due:
        await session.execute(
            update(Round)
            .where(Round.id == round_id)
            .values(closed_at=now)
            .execution_options(synchronize_session=False)
        )
        await cut_links(session, round_id)
        await tally_round(session, await load_version(session, version_id), round_id, now)
    return len(due)


async def tally_closed_rounds(
    session: AsyncSession, *, now: datetime | None = None, limit: int = 1
) -> int:
    """Tally up to ``limit`` closed rounds that have no tally: rounds closed before
    tallies existed, and rounds whose tally a deletion of someone's data dropped."""
    due = (
        await session.execute(
            select(Round.id, Round.survey_version_id)
            .where(Round.closed_at.is_not(None), Round.tallied_at.is_(None))
            .order_by(Round.id)
            .limit(limit)
        )
    ).all()
    for round_id, version_id in due:
        await tally_round(
            session, await load_version(session, version_id), round_id, now or utcnow()
        )
    return len(due)


@dataclass(frozen=True)
class RoundStatus:
    """Counts for one round, as /status and `pejling round status` show them."""

    round_id: int
    survey_id: str
    audience: RoundAudience
    closes_at: datetime
    closed: bool
    unit_names: list[str]
    invited: int
    waiting: int  # in the outbox, not yet sent
    sent: int  # invitation delivered, no answer yet
    started: int
    completed: int
    failed: int
    cancelled: int


async def round_status(
    session: AsyncSession, round_id: int, *, now: datetime | None = None
) -> RoundStatus:
    """How far a round has come, counted in the database."""
    now = now or utcnow()
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise PejlingError(Problem.NO_ROUND, round_id=round_id)
    # A tallied round has its deliveries counted (and past the retention period only
    # that count is left); an open one is counted from its deliveries.
    query = (
        select(RoundDeliveryTally.status, func.sum(RoundDeliveryTally.count))
        .where(RoundDeliveryTally.round_id == round_id)
        .group_by(RoundDeliveryTally.status)
        if round_.tallied_at is not None
        else select(Delivery.status, func.count())
        .where(Delivery.round_id == round_id)
        .group_by(Delivery.status)
    )
    counts = {status: int(n) for status, n in (await session.execute(query)).all()}
    names = await session.execute(
        select(Unit.name)
        .join(round_units, round_units.c.unit_id == Unit.id)
        .where(round_units.c.round_id == round_id)
        .order_by(Unit.name)
    )
    survey_id = await session.scalar(
        select(SurveyVersion.survey_id).where(SurveyVersion.id == round_.survey_version_id)
    )
    return RoundStatus(
        round_id=round_id,
        survey_id=survey_id or "",
        audience=round_.audience,
        closes_at=round_.closes_at,
        closed=round_.closed_at is not None or round_.closes_at <= now,
        unit_names=list(names.scalars()),
        invited=sum(counts.values()),
        waiting=counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0),
        sent=counts.get(DeliveryStatus.SENT, 0),
        started=counts.get(DeliveryStatus.STARTED, 0),
        completed=counts.get(DeliveryStatus.COMPLETED, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0),
        cancelled=counts.get(DeliveryStatus.CANCELLED, 0) + counts.get(DeliveryStatus.WITHDRAWN, 0),
    )


async def open_round_ids(
    session: AsyncSession, unit_ids: Sequence[int] | None = None, *, now: datetime | None = None
) -> list[int]:
    """Ids of the open rounds, all or those touching the given units."""
    now = now or utcnow()
    query = select(Round.id).where(is_open(now)).order_by(Round.id)
    if unit_ids is not None:
        query = query.where(
            Round.id.in_(select(round_units.c.round_id).where(round_units.c.unit_id.in_(unit_ids)))
        )
    return list((await session.execute(query)).scalars())
