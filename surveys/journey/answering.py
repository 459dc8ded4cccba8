"""Where the person is, and pressing buttons: one question at a time, back, the comment, the end."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, Table, Update, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Audience, UnitKind
from storage.models import (
    OPEN_DELIVERY_STATUSES,
    AnswerKind,
    Channel,
    Citizen,
    Comment,
    Delivery,
    DeliveryStatus,
    Respondent,
    Round,
    TelegramAccount,
)
from storage.models import Answer as AnswerRow
from storage.types import utcnow
from storage.upsert import upsert
from surveys.fieldwork.definitions import load_version
from surveys.fieldwork.rounds import is_open, next_reminder
from surveys.journey.results import (
    DONT_KNOW,
    SKIP,
    CommentPrompt,
    Finished,
    Outcome,
    Question,
    Refusal,
    Step,
)
from surveys.questionnaire.scoring import is_proxy

log = logging.getLogger(__name__)

NOT_YET_SENT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class Who:
    """Who acts, and by which channel: a Telegram account (on behalf of any of its
    respondents), or one respondent on the web pages."""

    channel: Channel
    account_id: int | None = None
    respondent_id: int | None = None

    @classmethod
    def telegram(cls, account: TelegramAccount) -> Who:
        """A Telegram user, who owns the deliveries of every respondent of the account."""
        return cls(Channel.TELEGRAM, account_id=account.id)

    @classmethod
    def web(cls, respondent_id: int) -> Who:
        """A person on the web pages, who owns their one respondent's deliveries."""
        return cls(Channel.WEB, respondent_id=respondent_id)

    def owns(self, account_id: int | None, respondent_id: int | None) -> bool:
        """Whether a delivery of this respondent (with this account) is theirs."""
        if self.account_id is not None:
            return account_id == self.account_id
        return respondent_id is not None and respondent_id == self.respondent_id


# ---------------------------------------------------------------- where the person is


async def open_delivery(
    session: AsyncSession, account: TelegramAccount | Who, now: datetime | None = None
) -> Delivery | None:
    """The survey this person is in the middle of (the one touched last)."""
    now = now or utcnow()
    who = account if isinstance(account, Who) else Who.telegram(account)
    mine = (
        Respondent.account_id == who.account_id
        if who.account_id is not None
        else Delivery.respondent_id == who.respondent_id
    )
    result = await session.execute(
        select(Delivery)
        .join(Respondent, Respondent.id == Delivery.respondent_id)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            mine,
            Delivery.status.in_((*OPEN_DELIVERY_STATUSES, DeliveryStatus.PENDING)),
            is_open(now),
        )
        .order_by(Delivery.updated_at.desc(), Delivery.id.desc())
        .limit(1)
    )
    delivery = result.scalar_one_or_none()
    if delivery is not None and delivery.status == DeliveryStatus.PENDING:
        # The person came by before the invitation went out: no invitation is needed now.
        round_ = await session.get(Round, delivery.round_id)
        assert round_ is not None
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.next_reminder_at = next_reminder(now, list(round_.reminder_days), 0)
        await session.flush()
    return delivery


async def next_step(
    session: AsyncSession, account: TelegramAccount | Who, now: datetime | None = None
) -> Step | None:
    """What to show this person now: their current question, or None."""
    delivery = await open_delivery(session, account, now)
    if delivery is None:
        return None
    return await step_of(session, delivery)


async def open_step(session: AsyncSession, who: Who, now: datetime | None = None) -> Step | None:
    """What to show this person now, as ``next_step``, in one read: the delivery
    ``open_delivery`` would choose, with its round and stored answers (the web pages ask
    this on every page)."""
    now = now or utcnow()
    by_account = who.account_id is not None
    rows = (
        await session.execute(
            _open_press_statement(by_account),
            {"who": who.account_id if by_account else who.respondent_id, "now": now},
        )
    ).all()
    if not rows:
        return None
    press = _press_of(rows[0].id, rows)
    if press.status == DeliveryStatus.PENDING:
        # The person came by before the invitation went out: no invitation is needed now.
        press.status = DeliveryStatus.SENT
        await _write_delivery(
            session,
            press,
            {
                "status": DeliveryStatus.SENT,
                "sent_at": now,
                "next_reminder_at": next_reminder(now, press.reminder_days, 0),
            },
        )
    return await _step(session, press)


async def step_of(session: AsyncSession, delivery: Delivery) -> Step:
    """The question (or the comment prompt) a delivery stands at."""
    press = await _load_press(session, delivery.id, lock=False)
    assert press is not None
    return await _step(session, press)


# ---------------------------------------------------------------- pressing buttons


@dataclass
class _Press:
    """A delivery as a button press sees it, with its round and its stored answers, read
    in one statement: a press is the bot's hottest path."""

    delivery_id: int
    round_id: int
    status: str
    position: int
    audience: Audience
    unit_kind: UnitKind
    started: bool
    survey_version_id: int
    closes_at: datetime
    closed_at: datetime | None
    reminder_days: list[int]
    anonymous: bool
    respondent_id: int | None  # None once an anonymous round's link is cut
    owner: int | None  # the Telegram account of the delivery's respondent, if any
    citizen_name: str | None
    answers: dict[str, str]  # item id -> "1".."K", DONT_KNOW or SKIP

    def open_at(self, now: datetime) -> bool:
        return self.closed_at is None and self.closes_at > now


def _choice_of(kind: str, value: int | None) -> str:
    if kind == AnswerKind.DONT_KNOW:
        return DONT_KNOW
    return SKIP if kind == AnswerKind.SKIP else str(value)


def _press_select() -> Select[Any]:
    """The delivery, its round, owner and stored answers, for a WHERE to name the delivery."""
    d, r = Delivery.__table__.c, Round.__table__.c
    p, c, a = Respondent.__table__.c, Citizen.__table__.c, AnswerRow.__table__.c
    return select(
        d.id,
        d.round_id,
        d.status,
        d.position,
        d.audience,
        d.unit_kind,
        d.started_at,
        d.respondent_id,
        r.survey_version_id,
        r.closes_at,
        r.closed_at,
        r.reminder_days,
        r.anonymous,
        p.account_id,
        c.first_name,
        a.item_id,
        a.kind,
        a.value,
    ).select_from(
        Delivery.__table__.join(Round.__table__, r.id == d.round_id)
        .outerjoin(Respondent.__table__, p.id == d.respondent_id)
        .outerjoin(Citizen.__table__, c.id == p.citizen_id)
        .outerjoin(AnswerRow.__table__, a.delivery_id == d.id)
    )


@lru_cache(maxsize=2)
def _press_statement(lock: bool) -> Select[Any]:
    """The delivery, its round, owner and stored answers in one read; built once (Core
    columns, bound id), since building a statement per press cost more than running it."""
    d = Delivery.__table__.c
    statement = _press_select().where(d.id == bindparam("delivery_id"))
    # Two presses of one delivery (a double tap, two processes) take turns.
    return statement.with_for_update(of=Delivery.__table__) if lock else statement


@lru_cache(maxsize=2)
def _open_press_statement(by_account: bool) -> Select[Any]:
    """As ``_press_statement``, for the delivery ``open_delivery`` chooses (bound: ``who``,
    the account or respondent id, and ``now``); built once."""
    d, r, p = Delivery.__table__.c, Round.__table__.c, Respondent.__table__.c
    now = bindparam("now", type_=r.closes_at.type)
    chosen = (
        select(d.id)
        .select_from(
            Delivery.__table__.join(Respondent.__table__, p.id == d.respondent_id).join(
                Round.__table__, r.id == d.round_id
            )
        )
        .where(
            (p.account_id if by_account else d.respondent_id) == bindparam("who"),
            # Equalities, not IN: an IN list is expanded into the SQL at every execution.
            or_(*(d.status == s for s in (*OPEN_DELIVERY_STATUSES, DeliveryStatus.PENDING))),
            r.closed_at.is_(None),
            r.opens_at <= now,
            r.closes_at > now,
        )
        .order_by(d.updated_at.desc(), d.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return _press_select().where(d.id == chosen)


async def _load_press(session: AsyncSession, delivery_id: int, *, lock: bool) -> _Press | None:
    statement = _press_statement(lock)
    rows = (await session.execute(statement, {"delivery_id": delivery_id})).all()
    if not rows:
        return None
    return _press_of(delivery_id, rows)


def _press_of(delivery_id: int, rows: Sequence[Row[Any]]) -> _Press:
    first = rows[0]
    return _Press(
        delivery_id=delivery_id,
        round_id=first.round_id,
        status=first.status,
        position=first.position,
        audience=first.audience,
        unit_kind=first.unit_kind,
        started=first.started_at is not None,
        survey_version_id=first.survey_version_id,
        closes_at=first.closes_at,
        closed_at=first.closed_at,
        reminder_days=list(first.reminder_days),
        anonymous=first.anonymous,
        respondent_id=first.respondent_id,
        owner=first.account_id,
        citizen_name=first.first_name,
        answers={
            row.item_id: _choice_of(row.kind, row.value) for row in rows if row.item_id is not None
        },
    )


async def _step(session: AsyncSession, press: _Press) -> Step:
    survey = await load_version(session, press.survey_version_id)
    items = survey.items_for(press.audience, press.unit_kind)
    total = len(items)
    if press.position >= total:
        return CommentPrompt(
            delivery_id=press.delivery_id,
            index=total,
            total=total,
            prompt=survey.comment.prompt,
            warning=survey.comment.warning,
            max_length=survey.comment.max_length,
        )
    item = items[press.position]
    text = survey.text_for(item, press.audience)
    return Question(
        delivery_id=press.delivery_id,
        index=press.position,
        total=total,
        item=item,
        scale=survey.scale_of(item),
        text=text,
        # Only relatives' questions name the citizen.
        citizen_name=press.citizen_name if "{name" in text else None,
        name_fallback=survey.name_fallback,
        selected=press.answers.get(item.id),
    )


@lru_cache(maxsize=1)
def _delivery_update() -> Update:
    table = Delivery.__table__
    assert isinstance(table, Table)
    return update(table).where(table.c.id == bindparam("pressed_delivery"))


async def _write_delivery(session: AsyncSession, press: _Press, values: dict[str, object]) -> None:
    """One UPDATE of the pressed delivery: its new place, and what the press changed (the
    SET clause comes from the keys of ``values``)."""
    if values:
        await session.execute(_delivery_update(), {"pressed_delivery": press.delivery_id, **values})


async def _owned_press(
    session: AsyncSession,
    who: Who,
    delivery_id: int,
    index: int | None,
    now: datetime,
) -> tuple[_Press | None, dict[str, object], Outcome | None]:
    """The delivery a button names, locked, if this person may act on it at ``index``
    (None: wherever it stands), with the changes the press makes in any case."""
    press = await _load_press(session, delivery_id, lock=True)
    # Finished answers, and all answers of a closed round, of an anonymous round belong to
    # nobody any more; an old button still gets the polite answer.
    if press is not None and press.status == DeliveryStatus.COMPLETED:
        return None, {}, Outcome(refusal=Refusal.FINISHED)
    if press is not None and not press.open_at(now):
        return None, {}, Outcome(refusal=Refusal.CLOSED)
    if press is None or not who.owns(press.owner, press.respondent_id):
        log.warning(
            "refused a %s press naming delivery %s that is not the presser's "
            "(account %s, respondent %s)",
            who.channel,
            delivery_id,
            who.account_id,
            who.respondent_id,
        )
        return None, {}, Outcome(refusal=Refusal.NOT_YOURS)
    if press.status not in (*OPEN_DELIVERY_STATUSES, *NOT_YET_SENT):
        return None, {}, Outcome(refusal=Refusal.CLOSED)
    changes: dict[str, object] = {}
    if press.status in NOT_YET_SENT:
        # The person pressed the invitation before the sender recorded it as sent: they
        # have it, so it counts as sent now (the sender's late update then changes nothing).
        press.status = DeliveryStatus.SENT
        changes.update(
            status=DeliveryStatus.SENT,
            sent_at=now,
            next_reminder_at=next_reminder(now, press.reminder_days, 0),
        )
    if index is not None and index != press.position:
        await _write_delivery(session, press, changes)
        return None, {}, Outcome(shown=await _step(session, press), refusal=Refusal.STALE)
    return press, changes, None


def _who(account: TelegramAccount | Who) -> Who:
    return account if isinstance(account, Who) else Who.telegram(account)


async def begin(
    session: AsyncSession,
    account: TelegramAccount | Who,
    delivery_id: int,
    now: datetime | None = None,
) -> Outcome:
    """The 'start the survey' button of an invitation: show where the person stands."""
    now = now or utcnow()
    press, changes, refusal = await _owned_press(session, _who(account), delivery_id, None, now)
    if press is None:
        return refusal or Outcome(refusal=Refusal.CLOSED)
    await _write_delivery(session, press, changes)
    return Outcome(shown=await _step(session, press))


def option_position(choice: str, options: int) -> int | None:
    """The option position ``choice`` names (1..``options``), or None. ASCII digits only:
    ``str.isdigit`` also accepts '³' and '٣', which ``int`` refuses or reads as 3."""
    if not (choice.isascii() and choice.isdigit()) or len(choice) > 3:
        return None
    position = int(choice)
    return position if 1 <= position <= options else None


async def answer(
    session: AsyncSession,
    account: TelegramAccount | Who,
    delivery_id: int,
    index: int,
    choice: str,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Record an answer to the current question and move on.

    ``choice`` is an option position ("1".."K"), DONT_KNOW or SKIP. Answering the
    same item again replaces the stored answer. Four statements with the update's marker
    on PostgreSQL: the delivery read, the answer upsert, the delivery update.
    """
    now = now or utcnow()
    who = _who(account)
    press, changes, refusal = await _owned_press(session, who, delivery_id, index, now)
    if press is None:
        return refusal or Outcome(refusal=Refusal.CLOSED)
    step = await _step(session, press)
    if not isinstance(step, Question):
        await _write_delivery(session, press, changes)
        return Outcome(shown=step, refusal=Refusal.STALE)
    if choice == DONT_KNOW:
        kind, value = AnswerKind.DONT_KNOW, None
    elif choice == SKIP:
        kind, value = AnswerKind.SKIP, None
    elif (position := option_position(choice, len(step.scale.options))) is not None:
        kind, value = AnswerKind.VALUE, position
    else:
        await _write_delivery(session, press, changes)
        return Outcome(refusal=Refusal.INVALID)
    survey = await load_version(session, press.survey_version_id)
    await upsert(
        session,
        AnswerRow,
        {
            "delivery_id": press.delivery_id,
            "survey_id": survey.id,
            "survey_version": survey.version,
            "item_id": step.item.id,
            "kind": kind,
            "value": value,
            "channel": who.channel,
            "answered_at": now,
        },
        conflict=("delivery_id", "item_id"),
        update=("kind", "value", "channel", "answered_at"),
    )
    press.answers[step.item.id] = _choice_of(kind, value)
    if step.item.proxy_values:  # only the item that asks who answers sets the flag
        changes["proxy"] = is_proxy(survey, step.item.id, value)
    press.position = index + 1
    changes.update(position=press.position, status=DeliveryStatus.STARTED, updated_at=now)
    if not press.started:
        changes["started_at"] = now
    press.status = DeliveryStatus.STARTED
    await _write_delivery(session, press, changes)
    return Outcome(shown=await _step(session, press))


async def go_back(
    session: AsyncSession,
    account: TelegramAccount | Who,
    delivery_id: int,
    index: int,
    *,
    now: datetime | None = None,
) -> Outcome:
    """The Back button: show the previous question again, with its answer marked."""
    now = now or utcnow()
    who = _who(account)
    press, changes, refusal = await _owned_press(session, who, delivery_id, index, now)
    if press is None:
        return refusal or Outcome(refusal=Refusal.CLOSED)
    press.position = max(0, index - 1)
    changes.update(position=press.position, updated_at=now)
    await _write_delivery(session, press, changes)
    return Outcome(shown=await _step(session, press))


async def finish(
    session: AsyncSession,
    account: TelegramAccount | Who,
    delivery_id: int,
    index: int | None,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """End the survey at the comment step, with or without a comment (``index`` None:
    wherever the delivery stands, which must be the comment step)."""
    now = now or utcnow()
    who = _who(account)
    press, changes, refusal = await _owned_press(session, who, delivery_id, index, now)
    if press is None:
        return refusal or Outcome(refusal=Refusal.CLOSED)
    step = await _step(session, press)
    if not isinstance(step, CommentPrompt):
        await _write_delivery(session, press, changes)
        return Outcome(shown=step, refusal=Refusal.STALE)
    if comment is not None:
        comment = comment.strip()
        if len(comment) > step.max_length:
            await _write_delivery(session, press, changes)
            return Outcome(shown=step, refusal=Refusal.TOO_LONG)
        if comment:
            await upsert(
                session,
                Comment,
                {"delivery_id": press.delivery_id, "text": comment, "created_at": now},
                conflict=("delivery_id",),
                update=("text", "created_at"),
            )
    changes.update(
        status=DeliveryStatus.COMPLETED, completed_at=now, channel=who.channel, updated_at=now
    )
    if press.anonymous:
        # An anonymous round forgets who gave these answers the moment they are complete
        # (the participants list still prevents a second invitation).
        changes["respondent_id"] = None
    await _write_delivery(session, press, changes)
    return Outcome(shown=Finished(press.delivery_id, await next_step(session, who, now)))


async def comment_text(
    session: AsyncSession,
    account: TelegramAccount | Who,
    text: str,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Free text from the person: a comment if they are at the comment step."""
    now = now or utcnow()
    delivery = await open_delivery(session, account, now)
    if delivery is None:
        return Outcome(refusal=Refusal.NOTHING_OPEN)
    step = await step_of(session, delivery)
    if not isinstance(step, CommentPrompt):
        return Outcome(shown=step, refusal=Refusal.STALE)
    return await finish(session, account, delivery.id, step.index, comment=text, now=now)
