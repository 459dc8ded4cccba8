"""The person's rights in the chat and on the web: see what is stored, delete it for real."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Answer,
    Audience,
    Citizen,
    Comment,
    Delivery,
    DeliveryStatus,
    Invite,
    InviteFailure,
    InviteRole,
    LanguageChoice,
    Respondent,
    Round,
    RoundParticipant,
    Staff,
    TelegramAccount,
    Unit,
    WebAccount,
    staff_units,
)
from surveys.fieldwork.tallies import forget_tallies
from surveys.privacy.retention import deleted_by


@dataclass(frozen=True)
class Participation:
    kind: Audience
    citizen_name: str | None
    unit_name: str


@dataclass(frozen=True)
class MyData:
    """Everything stored about one Telegram user, as plain facts to show them."""

    locale: str | None
    informed_at: datetime | None
    stopped_at: datetime | None
    participations: list[Participation] = field(default_factory=list)
    staff_roles: list[tuple[InviteRole, list[str]]] = field(default_factory=list)
    surveys: int = 0
    answers: int = 0
    comments: int = 0
    delete_by: datetime | None = None
    # Rounds of which the person's answers (if any) are already cut from them: /slet
    # cannot find those, the retention purge deletes them by ``anonymous_delete_by``.
    anonymous_rounds: int = 0
    anonymous_delete_by: datetime | None = None
    failed_links: int = 0  # wrong invite links tried lately (kept a day)


@dataclass(frozen=True)
class Traces:
    """What is kept about a Telegram user who has no account: a language chosen with
    /sprog, and wrong invite links tried lately."""

    locale: str | None
    failed_links: int

    @property
    def empty(self) -> bool:
        """True when nothing at all is kept."""
        return self.locale is None and self.failed_links == 0


async def traces(session: AsyncSession, telegram_user_id: int) -> Traces:
    """What is kept about a Telegram user without an account."""
    locale = await session.scalar(
        select(LanguageChoice.locale).where(LanguageChoice.telegram_user_id == telegram_user_id)
    )
    return Traces(locale, await _failed_links(session, telegram_user_id))


async def _failed_links(session: AsyncSession, telegram_user_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(InviteFailure)
        .where(InviteFailure.telegram_user_id == telegram_user_id)
    )
    return int(count or 0)


async def forget_traces(session: AsyncSession, telegram_user_id: int) -> None:
    """Delete every row that names a Telegram user outside ``telegram_accounts``: a
    language chosen before joining and wrong invite links tried."""
    await session.execute(
        delete(LanguageChoice).where(LanguageChoice.telegram_user_id == telegram_user_id)
    )
    await session.execute(
        delete(InviteFailure).where(InviteFailure.telegram_user_id == telegram_user_id)
    )


def _person_of(account: TelegramAccount) -> Select[int]:
    return select(Respondent.id).where(Respondent.account_id == account.id)


async def my_data(session: AsyncSession, account: TelegramAccount, retention_months: int) -> MyData:
    """What is stored about this person, and when it will be deleted at the latest."""
    staff_rows = await session.execute(
        select(Staff.id, Staff.role).where(Staff.account_id == account.id).order_by(Staff.id)
    )
    staff_roles = []
    for staff_id, role in staff_rows:
        units = await session.execute(
            select(Unit.name)
            .join(staff_units, staff_units.c.unit_id == Unit.id)
            .where(staff_units.c.staff_id == staff_id)
            .order_by(Unit.name)
        )
        staff_roles.append((role, list(units.scalars())))
    return await _data_of(
        session,
        _person_of(account),
        retention_months,
        locale=account.locale,
        informed_at=account.informed_at,
        stopped_at=account.stopped_at,
        staff_roles=staff_roles,
        failed_links=await _failed_links(session, account.telegram_user_id),
    )


async def _data_of(
    session: AsyncSession,
    respondents: Select[int],
    retention_months: int,
    *,
    locale: str | None,
    informed_at: datetime | None,
    stopped_at: datetime | None,
    staff_roles: list[tuple[InviteRole, list[str]]],
    failed_links: int = 0,
) -> MyData:
    people = await session.execute(
        select(Respondent.kind, Citizen.first_name, Unit.name)
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(Unit, Unit.id == Citizen.unit_id)
        .where(Respondent.id.in_(respondents))
        .order_by(Respondent.id)
    )
    participations = [Participation(kind, name, unit) for kind, name, unit in people]
    mine = select(Delivery.id).where(Delivery.respondent_id.in_(respondents))
    surveys = await session.scalar(select(func.count()).select_from(mine.subquery()))
    answers = await session.scalar(
        select(func.count()).select_from(Answer).where(Answer.delivery_id.in_(mine))
    )
    comments = await session.scalar(
        select(func.count()).select_from(Comment).where(Comment.delivery_id.in_(mine))
    )
    last_close = await session.scalar(
        select(func.max(func.coalesce(Round.closed_at, Round.closes_at))).where(
            Round.id.in_(select(Delivery.round_id).where(Delivery.respondent_id.in_(respondents)))
        )
    )
    # Anonymous rounds the person was invited to where no delivery is linked to them any
    # more: they finished, or the round closed (the participants list is all that says
    # they were there).
    linked = (
        select(Delivery.id)
        .where(
            Delivery.round_id == Round.id,
            Delivery.respondent_id == RoundParticipant.respondent_id,
        )
        .exists()
    )
    cut = (
        select(Round.id, func.coalesce(Round.closed_at, Round.closes_at).label("closed"))
        .join(RoundParticipant, RoundParticipant.round_id == Round.id)
        .where(and_(RoundParticipant.respondent_id.in_(respondents), Round.anonymous, ~linked))
        .subquery()
    )
    anonymous, last_anonymous = (
        await session.execute(select(func.count(cut.c.id.distinct()), func.max(cut.c.closed)))
    ).one()
    return MyData(
        locale=locale,
        informed_at=informed_at,
        stopped_at=stopped_at,
        participations=participations,
        staff_roles=staff_roles,
        surveys=surveys or 0,
        answers=answers or 0,
        comments=comments or 0,
        delete_by=deleted_by(last_close, retention_months) if last_close else None,
        anonymous_rounds=int(anonymous or 0),
        anonymous_delete_by=(
            deleted_by(last_anonymous, retention_months) if last_anonymous else None
        ),
        failed_links=failed_links,
    )


async def delete_my_data(session: AsyncSession, account: TelegramAccount) -> None:
    """/slet: delete every row that names this person, at once.

    The account, staff roles, the language chosen and wrong links tried go, and the
    answers and comments still linked to the person. A delivery stays only as an
    anonymous count (withdrawn, no respondent, no times) so a round's response rate
    stays honest. A citizen's own first name is blanked; the citizen row stays as the
    municipality's anonymous key for relatives' answers. Answers already cut from the
    person (an anonymous round they finished, or one that closed) cannot be found: they
    go with the retention purge. The letter's web link stops working.
    """
    await _delete_respondents(session, _person_of(account))
    await session.execute(delete(Staff).where(Staff.account_id == account.id))
    await session.execute(delete(TelegramAccount).where(TelegramAccount.id == account.id))
    await forget_traces(session, account.telegram_user_id)
    session.expunge(account)


async def _delete_respondents(session: AsyncSession, respondents: Select[int]) -> None:
    """Delete these respondents and everything that names them (see ``delete_my_data``)."""
    ids = list(await session.scalars(respondents))
    if not ids:
        return
    deliveries = select(Delivery.id).where(Delivery.respondent_id.in_(ids))
    touched = select(Delivery.round_id).where(Delivery.respondent_id.in_(ids))
    rounds = list(await session.scalars(touched.distinct()))
    await session.execute(delete(Answer).where(Answer.delivery_id.in_(deliveries)))
    await session.execute(delete(Comment).where(Comment.delivery_id.in_(deliveries)))
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(deliveries))
        .values(
            respondent_id=None,
            status=DeliveryStatus.WITHDRAWN,
            proxy=False,
            position=0,
            attempts=0,
            last_error=None,
            claimed_at=None,
            next_attempt_at=None,
            reminders_sent=0,
            next_reminder_at=None,
            sent_at=None,
            started_at=None,
            completed_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    # A closed round's tally counted these answers: it goes too, to be counted again.
    # After the deliveries' update, which waits for a tally being counted right now.
    await forget_tallies(session, rounds)
    own_citizens = select(Respondent.citizen_id).where(
        Respondent.id.in_(ids), Respondent.kind == Audience.CITIZEN
    )
    await session.execute(
        update(Citizen)
        .where(Citizen.id.in_(own_citizens))
        .values(first_name=None)
        .execution_options(synchronize_session=False)
    )
    # The letter stays as "used" (no new letter for someone who left), but its link and
    # code lead nowhere any more, and it names nobody.
    await session.execute(
        update(Invite)
        .where(Invite.respondent_id.in_(ids))
        .values(respondent_id=None, salt=None, code_hash=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(delete(WebAccount).where(WebAccount.respondent_id.in_(ids)))
    await session.execute(delete(Respondent).where(Respondent.id.in_(ids)))


def _person_of_respondent(respondent: Respondent) -> Select[int]:
    """A web visitor's respondent, with every respondent of their Telegram account if they
    have one: the same person, whichever channel they ask on."""
    if respondent.account_id is None:
        return select(Respondent.id).where(Respondent.id == respondent.id)
    return select(Respondent.id).where(Respondent.account_id == respondent.account_id)


async def web_my_data(
    session: AsyncSession, respondent_id: int, *, retention_months: int
) -> MyData | None:
    """What is stored about a person on the web pages (as /mine_data shows it); None when
    the respondent is gone."""
    respondent = await session.get(Respondent, respondent_id)
    if respondent is None:
        return None
    web = await session.scalar(select(WebAccount).where(WebAccount.respondent_id == respondent_id))
    account = (
        await session.get(TelegramAccount, respondent.account_id) if respondent.account_id else None
    )
    if account is not None:
        data = await my_data(session, account, retention_months)
        return replace(
            data,
            locale=(web.locale if web else None) or data.locale,
            informed_at=data.informed_at or (web.informed_at if web else None),
            stopped_at=data.stopped_at or (web.stopped_at if web else None),
        )
    return await _data_of(
        session,
        _person_of_respondent(respondent),
        retention_months,
        locale=web.locale if web else None,
        informed_at=web.informed_at if web else None,
        stopped_at=web.stopped_at if web else None,
        staff_roles=[],
    )


async def web_delete_my_data(session: AsyncSession, respondent_id: int) -> bool:
    """Delete my data on the web pages: the same as /slet. A person who also uses
    Telegram loses their Telegram account's data too (one person, one deletion). False
    when there was nothing to delete."""
    respondent = await session.get(Respondent, respondent_id)
    if respondent is None:
        return False
    if respondent.account_id is not None:
        account = await session.get(TelegramAccount, respondent.account_id)
        assert account is not None
        session.expunge(respondent)
        await delete_my_data(session, account)
        return True
    session.expunge(respondent)
    await _delete_respondents(session, select(Respondent.id).where(Respondent.id == respondent_id))
    return True
