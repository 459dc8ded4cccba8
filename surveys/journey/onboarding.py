"""Accounts and invites: opening a link, the information text, stop, resume, language."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Citizen,
    CitizenStatus,
    Invite,
    InviteFailure,
    InviteRole,
    LanguageChoice,
    Respondent,
    Staff,
    TelegramAccount,
    Unit,
    WebAccount,
)
from storage.types import utcnow
from storage.upsert import upsert
from surveys.fieldwork.rounds import enrol_respondent, remind_in_chat
from surveys.journey.answering import next_step
from surveys.journey.results import InviteOutcome, InviteResult, Step
from surveys.registry.invites import find_invite

log = logging.getLogger(__name__)

# Guessing invite tokens: after this many wrong ones in the window, wait.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


# ---------------------------------------------------------------- accounts and invites


async def find_account(session: AsyncSession, telegram_user_id: int) -> TelegramAccount | None:
    """The account of a Telegram user, if they ever opened an invite."""
    result = await session.execute(
        select(TelegramAccount).where(TelegramAccount.telegram_user_id == telegram_user_id)
    )
    return result.scalar_one_or_none()


async def open_invite(
    session: AsyncSession,
    token: str,
    *,
    telegram_user_id: int,
    chat_id: int,
    now: datetime | None = None,
) -> InviteResult:
    """Use an invite token: create the person it is for and link the Telegram account.

    Unknown, expired and used tokens change nothing.
    """
    now = now or utcnow()
    recent = await session.scalar(
        select(func.count())
        .select_from(InviteFailure)
        .where(
            InviteFailure.telegram_user_id == telegram_user_id,
            InviteFailure.at > now - FAILURE_WINDOW,
        )
    )
    if (recent or 0) >= MAX_FAILURES:
        return InviteResult(InviteOutcome.THROTTLED)
    invite = await find_invite(session, token)
    citizen = (
        await session.get(Citizen, invite.citizen_id) if invite and invite.citizen_id else None
    )
    refusal = None
    if invite is None:
        refusal = InviteOutcome.UNKNOWN
    elif invite.used_at is not None and invite.respondent_id is not None:
        # A letter first opened on the web: the same person, now in Telegram.
        if citizen is not None and citizen.status != CitizenStatus.ACTIVE:
            return _citizen_left(citizen)
        if citizen is None:
            refusal = InviteOutcome.EXPIRED
        else:
            attached = await _attach_to_web_respondent(
                session, invite, telegram_user_id=telegram_user_id, chat_id=chat_id, now=now
            )
            if attached is not None:
                return attached
            refusal = InviteOutcome.USED
    elif invite.used_at is not None:
        refusal = InviteOutcome.USED
    elif citizen is not None and citizen.status != CitizenStatus.ACTIVE:
        # A real link of someone's letter, not a guess: no failure counted, and no new
        # link to ask for, only what happened.
        return _citizen_left(citizen)
    elif invite.expires_at <= now:
        refusal = InviteOutcome.EXPIRED
    if refusal is not None or invite is None:
        session.add(InviteFailure(telegram_user_id=telegram_user_id, at=now))
        return InviteResult(refusal or InviteOutcome.UNKNOWN)
    # A guarded update, so two processes (or a redelivered update) cannot both use it.
    claimed = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return InviteResult(InviteOutcome.USED)

    account = await find_account(session, telegram_user_id)
    # A language chosen before joining belongs to the account from now on.
    chosen = (
        await session.execute(
            delete(LanguageChoice)
            .where(LanguageChoice.telegram_user_id == telegram_user_id)
            .returning(LanguageChoice.locale)
        )
    ).scalar_one_or_none()
    if account is None:
        account = TelegramAccount(telegram_user_id=telegram_user_id, chat_id=chat_id, locale=chosen)
        session.add(account)
    account.chat_id = chat_id
    account.stopped_at = None  # opening a new invite is a clear wish to take part
    await session.flush()

    unit = await session.get(Unit, invite.unit_id) if invite.unit_id else None
    if invite.role in (InviteRole.STAFF, InviteRole.COORDINATOR):
        staff = Staff(role=invite.role, account_id=account.id, units=[unit] if unit else [])
        session.add(staff)
        await session.flush()
        return InviteResult(
            InviteOutcome.STAFF,
            account=account,
            unit_name=unit.name if unit else None,
            role=invite.role,
        )

    assert citizen is not None
    respondent = Respondent(kind=invite.role, citizen_id=citizen.id, account_id=account.id)
    session.add(respondent)
    await session.flush()
    # The letter's web link keeps leading to this person (surveys.journey.web).
    invite.respondent_id = respondent.id
    if account.informed_at is not None:
        await enrol_respondent(session, respondent, now=now)
    return InviteResult(
        InviteOutcome.RESPONDENT,
        account=account,
        needs_information=account.informed_at is None,
        unit_name=unit.name if unit else None,
        role=invite.role,
    )


async def _attach_to_web_respondent(
    session: AsyncSession,
    invite: Invite,
    *,
    telegram_user_id: int,
    chat_id: int,
    now: datetime,
) -> InviteResult | None:
    """Attach a Telegram account to the respondent who opened this letter on the web, so
    they continue where they stopped, and are reminded in the chat in the rounds they have
    not finished; None when the respondent has a Telegram account."""
    taken = await session.scalar(
        select(Respondent.account_id).where(Respondent.id == invite.respondent_id)
    )
    if taken is not None:
        return None
    account = await find_account(session, telegram_user_id)
    if account is None:
        account = TelegramAccount(telegram_user_id=telegram_user_id, chat_id=chat_id)
        session.add(account)
        await session.flush()
    # Guarded, so two Telegram users cannot both take the same person.
    claimed = await session.execute(
        update(Respondent)
        .where(Respondent.id == invite.respondent_id, Respondent.account_id.is_(None))
        .values(account_id=account.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    account.chat_id = chat_id
    account.stopped_at = None
    web = await session.scalar(
        select(WebAccount).where(WebAccount.respondent_id == invite.respondent_id)
    )
    if web is not None:
        # Information accepted (and a language chosen) on the web counts in Telegram too.
        account.informed_at = account.informed_at or web.informed_at
        account.locale = account.locale or web.locale
        web.stopped_at = None
    await session.flush()
    respondent = await session.get(Respondent, invite.respondent_id)
    assert respondent is not None
    if account.informed_at is not None:
        await enrol_respondent(session, respondent, now=now)
    # Reached by letter until now: the rounds they are in remind them in the chat from
    # here on (and the printed reminders leave them out, as everyone with Telegram).
    await remind_in_chat(session, respondent.id, now=now)
    unit = await session.get(Unit, invite.unit_id) if invite.unit_id else None
    return InviteResult(
        InviteOutcome.RESPONDENT,
        account=account,
        needs_information=account.informed_at is None,
        unit_name=unit.name if unit else None,
        role=invite.role,
    )


def _citizen_left(citizen: Citizen) -> InviteResult:
    left = InviteOutcome.CITIZEN_DIED
    if citizen.status == CitizenStatus.MOVED:
        left = InviteOutcome.CITIZEN_MOVED
    return InviteResult(left, citizen_name=citizen.first_name)


async def accept_information(
    session: AsyncSession, account: TelegramAccount, *, now: datetime | None = None
) -> Step | None:
    """The person read the information and chose to take part: enrol and begin."""
    now = now or utcnow()
    if account.informed_at is None:
        account.informed_at = now
    account.stopped_at = None
    for respondent in await _respondents(session, account):
        await enrol_respondent(session, respondent, now=now)
    return await next_step(session, account, now=now)


async def decline(
    session: AsyncSession, account: TelegramAccount, now: datetime | None = None
) -> None:
    """The person does not want surveys: nothing more is sent until /start."""
    account.stopped_at = now or utcnow()


async def stop(
    session: AsyncSession, account: TelegramAccount, now: datetime | None = None
) -> None:
    """/stop: no more invitations or reminders."""
    account.stopped_at = now or utcnow()


async def resume(session: AsyncSession, account: TelegramAccount) -> bool:
    """/start after /stop: take part again. True when the person had stopped."""
    was_stopped = account.stopped_at is not None
    account.stopped_at = None
    return was_stopped


async def set_locale(session: AsyncSession, account: TelegramAccount, locale: str) -> None:
    """Remember the person's language."""
    account.locale = locale


async def remember_language(
    session: AsyncSession, telegram_user_id: int, locale: str, *, now: datetime | None = None
) -> None:
    """/sprog before joining: keep the choice until the person opens their invite (then it
    moves to their account) or ``KEEP_LANGUAGE_CHOICES`` has passed."""
    await upsert(
        session,
        LanguageChoice,
        {"telegram_user_id": telegram_user_id, "locale": locale, "chosen_at": now or utcnow()},
        conflict=("telegram_user_id",),
        update=("locale", "chosen_at"),
    )


async def language_before_joining(session: AsyncSession, telegram_user_id: int) -> str | None:
    """The language a Telegram user without an account chose with /sprog, if any."""
    return await session.scalar(
        select(LanguageChoice.locale).where(LanguageChoice.telegram_user_id == telegram_user_id)
    )


async def _respondents(session: AsyncSession, account: TelegramAccount) -> list[Respondent]:
    result = await session.execute(
        select(Respondent).where(Respondent.account_id == account.id).order_by(Respondent.id)
    )
    return list(result.scalars())
