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

from sqlalchemy import Row, Select, and_, case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
)
from storage.types import utcnow
from surveys.fieldwork.rounds import enrol_respondent, is_open
from surveys.journey.answering import Who, finish, go_back, open_delivery, step_of
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


async def web_visitor(
    session: AsyncSession,
    respondent_id: int,
    *,
    links: LinkKeys | None = None,
    token: str | None = None,
) -> Visitor | None:
    """The person behind a session; None when they deleted their data or their citizen
    left (a stale cookie leads nowhere)."""
    row = (
        await session.execute(
            select(Respondent, Citizen.status, WebAccount, TelegramAccount)
            .join(Citizen, Citizen.id == Respondent.citizen_id)
            .outerjoin(WebAccount, WebAccount.respondent_id == Respondent.id)
            .outerjoin(TelegramAccount, TelegramAccount.id == Respondent.account_id)
            .where(Respondent.id == respondent_id)
        )
    ).first()
    if row is None:
        return None
    respondent, status, web, account = row
    if status != CitizenStatus.ACTIVE:
        return None
    return Visitor(
        respondent_id=respondent.id,
        role=respondent.kind,
        locale=(web.locale if web else None) or (account.locale if account else None),
        informed=bool((web and web.informed_at) or (account and account.informed_at)),
        stopped=bool((web and web.stopped_at) or (account and account.stopped_at)),
        telegram_link=await _telegram_link(session, respondent, account, links, token),
    )


async def _telegram_link(
    session: AsyncSession,
    respondent: Respondent,
    account: TelegramAccount | None,
    links: LinkKeys | None,
    token: str | None,
) -> str | None:
    if links is None:
        return None
    if account is not None:
        # Already in Telegram: the bot's chat, where they continue.
        return f"https://t.me/{links.bot_username}"
    if token is None:
        salt = await session.scalar(
            select(Invite.salt)
            .where(Invite.respondent_id == respondent.id, Invite.salt.is_not(None))
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
    visitor = await web_visitor(session, respondent_id)
    if visitor is None:
        return None
    if visitor.informed and not visitor.stopped:
        respondent = await session.get(Respondent, respondent_id)
        assert respondent is not None
        # A round started since their last visit (or before they joined) takes them in.
        await enrol_respondent(session, respondent, now=now)
    who = Who.web(respondent_id)
    delivery = await open_delivery(session, who, now)
    if delivery is not None:
        return await step_of(session, delivery)
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
