"""The person's rights in the chat and on the web: see what is stored, delete it for real."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Answer,
    Citizen,
    Comment,
    Delivery,
    DeliveryStatus,
    Invite,
    Respondent,
    RespondentKind,
    Round,
    Staff,
    TelegramAccount,
    Unit,
    WebAccount,
    staff_units,
)
from surveys.indicators.sql import forget_tallies


@dataclass(frozen=True)
class Participation:
    kind: str  # citizen or relative
    citizen_name: str | None
    unit_name: str


@dataclass(frozen=True)
class MyData:
    """Everything stored about one Telegram user, as plain facts to show them."""

    locale: str | None
    informed_at: datetime | None
    stopped_at: datetime | None
    participations: list[Participation] = field(default_factory=list)
    staff_roles: list[tuple[str, list[str]]] = field(default_factory=list)
    surveys: int = 0
    answers: int = 0
    comments: int = 0
    delete_by: datetime | None = None


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
    )


async def _data_of(
    session: AsyncSession,
    respondents: Select[int],
    retention_months: int,
    *,
    locale: str | None,
    informed_at: datetime | None,
    stopped_at: datetime | None,
    staff_roles: list[tuple[str, list[str]]],
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
        select(func.max(Round.closes_at)).where(
            Round.id.in_(select(Delivery.round_id).where(Delivery.respondent_id.in_(respondents)))
        )
    )
    return MyData(
        locale=locale,
        informed_at=informed_at,
        stopped_at=stopped_at,
        participations=participations,
        staff_roles=staff_roles,
        surveys=surveys or 0,
        answers=answers or 0,
        comments=comments or 0,
        delete_by=last_close + relativedelta(months=retention_months) if last_close else None,
    )


async def delete_my_data(session: AsyncSession, account: TelegramAccount) -> None:
    """/slet: delete every row that names this person.

    Answers and comments go. A delivery stays only as an anonymous count (withdrawn,
    no respondent) so a round's response rate stays honest. A citizen's own first
    name is blanked; the citizen row stays as the municipality's anonymous key for
    relatives' answers. The letter's web link stops working.
    """
    await _delete_respondents(session, _person_of(account))
    await session.execute(delete(Staff).where(Staff.account_id == account.id))
    await session.execute(delete(TelegramAccount).where(TelegramAccount.id == account.id))
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
        .values(respondent_id=None, status=DeliveryStatus.WITHDRAWN, proxy=False)
        .execution_options(synchronize_session=False)
    )
    # A closed round's tally counted these answers: it goes too, to be counted again.
    # After the deliveries' update, which waits for a tally being counted right now.
    await forget_tallies(session, rounds)
    own_citizens = select(Respondent.citizen_id).where(
        Respondent.id.in_(ids), Respondent.kind == RespondentKind.CITIZEN
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
        return MyData(
            locale=(web.locale if web else None) or data.locale,
            informed_at=data.informed_at or (web.informed_at if web else None),
            stopped_at=data.stopped_at or (web.stopped_at if web else None),
            participations=data.participations,
            staff_roles=data.staff_roles,
            surveys=data.surveys,
            answers=data.answers,
            comments=data.comments,
            delete_by=data.delete_by,
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
