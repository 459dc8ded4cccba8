"""The person's rights in the chat: see what is stored, and delete it for real."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Answer,
    Audience,
    Citizen,
    Comment,
    Delivery,
    DeliveryStatus,
    InviteRole,
    Respondent,
    Round,
    Staff,
    TelegramAccount,
    Unit,
    staff_units,
)
from surveys.fieldwork.tallies import forget_tallies


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


async def my_data(session: AsyncSession, account: TelegramAccount, retention_months: int) -> MyData:
    """What is stored about this person, and when it will be deleted at the latest."""
    people = await session.execute(
        select(Respondent.kind, Citizen.first_name, Unit.name)
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(Unit, Unit.id == Citizen.unit_id)
        .where(Respondent.account_id == account.id)
        .order_by(Respondent.id)
    )
    participations = [Participation(kind, name, unit) for kind, name, unit in people]
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
    mine = (
        select(Delivery.id)
        .join(Respondent, Respondent.id == Delivery.respondent_id)
        .where(Respondent.account_id == account.id)
    )
    surveys = await session.scalar(select(func.count()).select_from(mine.subquery()))
    answers = await session.scalar(
        select(func.count()).select_from(Answer).where(Answer.delivery_id.in_(mine))
    )
    comments = await session.scalar(
        select(func.count()).select_from(Comment).where(Comment.delivery_id.in_(mine))
    )
    last_close = await session.scalar(
        select(func.max(Round.closes_at)).where(
            Round.id.in_(
                select(Delivery.round_id)
                .join(Respondent, Respondent.id == Delivery.respondent_id)
                .where(Respondent.account_id == account.id)
            )
        )
    )
    return MyData(
        locale=account.locale,
        informed_at=account.informed_at,
        stopped_at=account.stopped_at,
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
    relatives' answers.
    """
    respondents = select(Respondent.id).where(Respondent.account_id == account.id)
    deliveries = select(Delivery.id).where(Delivery.respondent_id.in_(respondents))
    touched = select(Delivery.round_id).where(Delivery.respondent_id.in_(respondents))
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
        Respondent.account_id == account.id, Respondent.kind == Audience.CITIZEN
    )
    await session.execute(
        update(Citizen)
        .where(Citizen.id.in_(own_citizens))
        .values(first_name=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(delete(Respondent).where(Respondent.account_id == account.id))
    await session.execute(delete(Staff).where(Staff.account_id == account.id))
    await session.execute(delete(TelegramAccount).where(TelegramAccount.id == account.id))
    session.expunge(account)
