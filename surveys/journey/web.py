"""The journey on the web pages: a letter's link or short code, then the same steps as
in the chat, for one respondent.

The web edge keeps only the respondent id in its session; everything else is read from
the database on each request, so any process serves any page. A letter's web link stays
valid for its person: any later visit with the same link or code resumes the same
respondent, on any device, until they delete their data or their citizen leaves.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import ROUND_AUDIENCES, Audience
from storage.models import (
    Citizen,
    CitizenStatus,
    Delivery,
    DeliveryStatus,
    Invite,
    InviteRole,
    Respondent,
    Round,
    RoundParticipant,
    TelegramAccount,
    WebAccount,
    WebCodeFailure,
    round_units,
)
from storage.types import utcnow
from surveys.fieldwork.rounds import enrol_respondent, is_open
from surveys.journey.answering import Who, finish, go_back, open_step
from surveys.journey.answering import answer as answer_press
from surveys.journey.results import Finished, Outcome, Step
from surveys.registry.invites import (
    TOKEN_SHAPE,
    deep_link,
    hash_code,
    hash_token,
    letter_token,
    normalise_code,
)

log = logging.getLogger(__name__)

# Guessing codes: per address, after this many wrong codes in the window, wait the window.
MAX_CODE_FAILURES = 5
CODE_FAILURE_WINDOW = timedelta(minutes=15)
# Across all addresses (many addresses guessing at once): more than this in an hour locks
# code entry for everyone until the hour has passed. Links (192 bits) are not affected.
GLOBAL_MAX_CODE_FAILURES = 1000
GLOBAL_FAILURE_WINDOW = timedelta(hours=1)

PERSON_ROLES = (InviteRole.CITIZEN, InviteRole.RELATIVE)


class LinkOutcome(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # unknown, expired or replaced link/code: all alike
    THROTTLED = "throttled"
    CITIZEN_DIED = "citizen_died"
    CITIZEN_MOVED = "citizen_moved"


@dataclass(frozen=True)
class Visitor:
    """The person behind a web session, as the pages need them."""

    respondent_id: int
    role: str  # "citizen" | "relative"
    locale: str | None  # the person's chosen language, if any
    informed: bool  # accepted the information text (either channel)
    stopped: bool  # /stop, or "stop" on the web
    telegram_link: str | None  # t.me link for "Åbn i Telegram" (None when not derivable)


@dataclass(frozen=True)
class LinkKeys:
    """What the Telegram link of a letter is derived from: LINK_SECRET and the bot's name."""

    secret: bytes
    bot_username: str


# ---------------------------------------------------------------- getting in


async def open_web_link(
    session: AsyncSession,
    token: str,
    *,
    now: datetime | None = None,
    links: LinkKeys | None = None,
) -> tuple[LinkOutcome, Visitor | None]:
    """A letter's web link: the person it belongs to (created at the first visit)."""
    now = now or utcnow()
    if not TOKEN_SHAPE.match(token):
        return LinkOutcome.UNKNOWN, None
    row = (
        await session.execute(_invite_with_citizen().where(Invite.token_hash == hash_token(token)))
    ).first()
    outcome, respondent_id = await _enter(session, row, now)
    if respondent_id is None:
        return outcome, None
    return outcome, await web_visitor(session, respondent_id, links=links, token=token)


async def open_web_code(
    session: AsyncSession,
    code: str,
    *,
    client: str,
    now: datetime | None = None,
    links: LinkKeys | None = None,
) -> tuple[LinkOutcome, Visitor | None]:
    """A letter's short code typed at ``/kode`` from the address ``client``.

    Unknown, expired and replaced codes give the same outcome with the same statements
    (the throttle read, the invite read, the failure written); five wrong codes in 15
    minutes from one address, or more than 1000 in an hour from all, give THROTTLED.
    """
    now = now or utcnow()
    client_hash = hashlib.sha256(client.encode()).hexdigest()
    mine, everyone = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (
                                and_(
                                    WebCodeFailure.client_hash == client_hash,
                                    WebCodeFailure.at > now - CODE_FAILURE_WINDOW,
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.count(),
            ).where(WebCodeFailure.at > now - GLOBAL_FAILURE_WINDOW)
        )
    ).one()
    if mine >= MAX_CODE_FAILURES:
        return LinkOutcome.THROTTLED, None
    if everyone > GLOBAL_MAX_CODE_FAILURES:
        log.warning("code entry locked for everyone: %s wrong codes in the last hour", everyone)
        return LinkOutcome.THROTTLED, None
    # A malformed code is looked up too (it matches nothing), so it costs the same.
    normalised = normalise_code(code) or code[:40]
    row = (
        await session.execute(
            _invite_with_citizen().where(Invite.code_hash == hash_code(normalised))
        )
    ).first()
    outcome, respondent_id = await _enter(session, row, now)
    if outcome == LinkOutcome.UNKNOWN:
        session.add(WebCodeFailure(client_hash=client_hash, at=now))
        await session.flush()
    if respondent_id is None:
        return outcome, None
    return outcome, await web_visitor(session, respondent_id, links=links)


def _invite_with_citizen() -> Select[Invite, str]:
    return select(Invite, Citizen.status).outerjoin(Citizen, Citizen.id == Invite.citizen_id)


async def _enter(
    session: AsyncSession, row: Row[Invite, str] | None, now: datetime
) -> tuple[LinkOutcome, int | None]:
    """The outcome of a found (or not found) invite; creates the respondent at the first
    visit."""
    if row is None:
        return LinkOutcome.UNKNOWN, None
    invite, status = row
    if invite.role not in PERSON_ROLES:
        return LinkOutcome.UNKNOWN, None
    if status == CitizenStatus.DIED:
        return LinkOutcome.CITIZEN_DIED, None
    if status == CitizenStatus.MOVED:
        return LinkOutcome.CITIZEN_MOVED, None
    if invite.respondent_id is not None:
        await _web_account(session, invite.respondent_id)
        return LinkOutcome.OK, invite.respondent_id
    if invite.used_at is not None or invite.expires_at <= now:
        # Used before links named their person, or by someone who deleted their data;
        # or past its last day, or replaced by a newer letter.
        return LinkOutcome.UNKNOWN, None
    # A guarded update, so two first visits (two tabs, two processes) make one person.
    claimed = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return LinkOutcome.UNKNOWN, None
    assert invite.citizen_id is not None
    respondent = Respondent(kind=invite.role, citizen_id=invite.citizen_id, account_id=None)
    session.add(respondent)
    await session.flush()
    await session.execute(
        update(Invite)
        .where(Invite.id == invite.id)
        .values(respondent_id=respondent.id)
        .execution_options(synchronize_session=False)
    )
    session.add(WebAccount(respondent_id=respondent.id, created_at=now))
    await session.flush()
    return LinkOutcome.OK, respondent.id


async def _web_account(session: AsyncSession, respondent_id: int) -> WebAccount:
    web = await session.scalar(select(WebAccount).where(WebAccount.respondent_id == respondent_id))
    if web is None:
        web = WebAccount(respondent_id=respondent_id)
        session.add(web)
        await session.flush()
    return web


# ---------------------------------------------------------------- the person


@lru_cache(maxsize=2)
def _visitor_statement(enrolment: bool) -> Select[Any]:
    """The person, their citizen's status and both accounts in one read (bound:
    ``respondent_id``); with ``enrolment``, also whether a round open at ``now`` (bound)
    is still to take them in, as ``enrol_respondent`` would. Built once (Core columns)."""
    p, c = Respondent.__table__.c, Citizen.__table__.c
    w, t = WebAccount.__table__.c, TelegramAccount.__table__.c
    columns: list[Any] = [
        p.id,
        p.kind,
        c.status,
        t.id.label("account_id"),
        w.locale.label("web_locale"),
        w.informed_at.label("web_informed_at"),
        w.stopped_at.label("web_stopped_at"),
        t.locale.label("telegram_locale"),
        t.informed_at.label("telegram_informed_at"),
        t.stopped_at.label("telegram_stopped_at"),
    ]
    if enrolment:
        r, u, joined = Round.__table__.c, round_units.c, RoundParticipant.__table__.c
        now = bindparam("now", type_=r.closes_at.type)
        audience_fits = or_(
            *(
                # Equalities, not IN: an IN list is expanded into the SQL at every execution.
                and_(p.kind == kind, or_(*(r.audience == audience for audience in audiences)))
                for kind, audiences in _ROUND_AUDIENCES_OF.items()
            )
        )
        columns.append(
            exists()
            .where(
                u.round_id == r.id,
                u.unit_id == c.unit_id,
                audience_fits,
                r.closed_at.is_(None),
                r.opens_at <= now,
                r.closes_at > now,
                ~exists().where(
                    joined.round_id == r.id, joined.respondent_id == bindparam("respondent_id")
                ),
            )
            .label("unenrolled")
        )
    return (
        select(*columns)
        .select_from(
            Respondent.__table__.join(Citizen.__table__, c.id == p.citizen_id)
            .outerjoin(WebAccount.__table__, w.respondent_id == p.id)
            .outerjoin(TelegramAccount.__table__, t.id == p.account_id)
        )
        .where(p.id == bindparam("respondent_id"))
    )


# For each kind of person, the kinds of round that reach them.
_ROUND_AUDIENCES_OF = {
    kind: [audience for audience, kinds in ROUND_AUDIENCES.items() if kind in kinds]
    for kind in Audience
}


async def _read_visitor(
    session: AsyncSession, respondent_id: int, *, enrolment_at: datetime | None = None
) -> Row[Any] | None:
    """The person's row (``_visitor_statement``); None when they deleted their data or
    their citizen left."""
    row: Row[Any] | None = (
        await session.execute(
            _visitor_statement(enrolment_at is not None),
            {"respondent_id": respondent_id, "now": enrolment_at},
        )
    ).first()
    if row is None or row.status != CitizenStatus.ACTIVE:
        return None
    return row


def _visitor_of(row: Row[Any], telegram_link: str | None) -> Visitor:
    return Visitor(
        respondent_id=row.id,
        role=row.kind,
        locale=row.web_locale or row.telegram_locale,
        informed=bool(row.web_informed_at or row.telegram_informed_at),
        stopped=bool(row.web_stopped_at or row.telegram_stopped_at),
        telegram_link=telegram_link,
    )


async def web_visitor(
    session: AsyncSession,
    respondent_id: int,
    *,
    links: LinkKeys | None = None,
    token: str | None = None,
) -> Visitor | None:
    """The person behind a session; None when they deleted their data or their citizen
    left (a stale cookie leads nowhere). The "Åbn i Telegram" link only with ``links``."""
    row = await _read_visitor(session, respondent_id)
    if row is None:
        return None
    link = await _telegram_link(session, row.id, row.account_id is not None, links, token)
    return _visitor_of(row, link)


async def _telegram_link(
    session: AsyncSession,
    respondent_id: int,
    in_telegram: bool,
    links: LinkKeys | None,
    token: str | None,
) -> str | None:
    if links is None:
        return None
    if in_telegram:
        # Already in Telegram: the bot's chat, where they continue.
        return f"https://t.me/{links.bot_username}"
    if token is None:
        salt = await session.scalar(
            select(Invite.salt)
            .where(Invite.respondent_id == respondent_id, Invite.salt.is_not(None))
            .order_by(Invite.id.desc())
            .limit(1)
        )
        if salt is None:
            return None
        token = letter_token(links.secret, salt)
    return deep_link(links.bot_username, token)


async def web_set_locale(session: AsyncSession, respondent_id: int, locale: str) -> None:
    """Remember the person's language on the web."""
    (await _web_account(session, respondent_id)).locale = locale


async def web_accept_information(
    session: AsyncSession, respondent_id: int, *, now: datetime | None = None
) -> Step | Finished | None:
    """The person read the information and chose to take part: enrol and begin."""
    now = now or utcnow()
    web = await _web_account(session, respondent_id)
    web.informed_at = web.informed_at or now
    web.stopped_at = None
    await session.flush()
    return await web_current(session, respondent_id, now=now)


async def web_stop(
    session: AsyncSession, respondent_id: int, *, now: datetime | None = None
) -> None:
    """Stop: no more rounds or reminders, on either channel."""
    now = now or utcnow()
    (await _web_account(session, respondent_id)).stopped_at = now
    await session.execute(
        update(TelegramAccount)
        .where(
            TelegramAccount.id
            == select(Respondent.account_id).where(Respondent.id == respondent_id).scalar_subquery()
        )
        .values(stopped_at=now)
        .execution_options(synchronize_session=False)
    )


async def web_resume(session: AsyncSession, respondent_id: int) -> None:
    """Take part again after stopping, on either channel."""
    (await _web_account(session, respondent_id)).stopped_at = None
    await session.execute(
        update(TelegramAccount)
        .where(
            TelegramAccount.id
            == select(Respondent.account_id).where(Respondent.id == respondent_id).scalar_subquery()
        )
        .values(stopped_at=None)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- answering


async def web_current(
    session: AsyncSession, respondent_id: int, *, now: datetime | None = None
) -> Step | Finished | None:
    """The current question or comment prompt; Finished when the person completed the
    open round (the thank-you, no changes); None when no round is open for them."""
    now = now or utcnow()
    row = await _read_visitor(session, respondent_id, enrolment_at=now)
    if row is None:
        return None
    visitor = _visitor_of(row, None)
    return await _current(session, respondent_id, _to_enrol(visitor, row), now)


async def web_survey(
    session: AsyncSession, respondent_id: int, *, now: datetime | None = None
) -> tuple[Visitor | None, Step | Finished | None]:
    """What the survey page shows: the person (None: a stale cookie), and for a person
    who accepted the information and did not stop, ``web_current``; in two reads when
    nothing is to be written (the person, then their open delivery with its answers)."""
    now = now or utcnow()
    row = await _read_visitor(session, respondent_id, enrolment_at=now)
    if row is None:
        return None, None
    visitor = _visitor_of(row, None)
    if not visitor.informed or visitor.stopped:
        return visitor, None
    return visitor, await _current(session, respondent_id, _to_enrol(visitor, row), now)


def _to_enrol(visitor: Visitor, row: Row[Any]) -> bool:
    # A round started since their last visit (or before they joined) takes them in.
    return visitor.informed and not visitor.stopped and bool(row.unenrolled)


async def _current(
    session: AsyncSession, respondent_id: int, enrol: bool, now: datetime
) -> Step | Finished | None:
    if enrol:
        respondent = await session.get(Respondent, respondent_id)
        assert respondent is not None
        await enrol_respondent(session, respondent, now=now)
    step = await open_step(session, Who.web(respondent_id), now)
    if step is not None:
        return step
    completed = await session.scalar(
        select(Delivery.id)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            Delivery.respondent_id == respondent_id,
            Delivery.status == DeliveryStatus.COMPLETED,
            is_open(now),
        )
        .order_by(Delivery.completed_at.desc())
        .limit(1)
    )
    if completed is not None:
        return Finished(completed, None)
    # An anonymous round forgot which delivery was theirs when they finished; that they
    # took part is still known, and no delivery of that round is theirs any more.
    finished_anonymously = await session.scalar(
        select(RoundParticipant.round_id)
        .join(Round, Round.id == RoundParticipant.round_id)
        .where(
            RoundParticipant.respondent_id == respondent_id,
            is_open(now),
            ~exists().where(
                Delivery.round_id == RoundParticipant.round_id,
                Delivery.respondent_id == respondent_id,
            ),
        )
        .limit(1)
    )
    if finished_anonymously is not None:
        return Finished(None, None)
    return None


async def web_answer(
    session: AsyncSession,
    respondent_id: int,
    delivery_id: int,
    index: int,
    choice: str,
    *,
    now: datetime | None = None,
) -> Outcome:
    """An answer from a question page; a stale page or a double submit gets
    ``Refusal.STALE`` with the current step, never a second answer."""
    return await answer_press(session, Who.web(respondent_id), delivery_id, index, choice, now=now)


async def web_back(
    session: AsyncSession,
    respondent_id: int,
    delivery_id: int,
    index: int,
    *,
    now: datetime | None = None,
) -> Outcome:
    """The Back button of a question page."""
    return await go_back(session, Who.web(respondent_id), delivery_id, index, now=now)


async def web_comment(
    session: AsyncSession,
    respondent_id: int,
    delivery_id: int,
    text: str | None,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Finish at the comment page, with a comment or (``text`` None) without one."""
    return await finish(session, Who.web(respondent_id), delivery_id, None, comment=text, now=now)
