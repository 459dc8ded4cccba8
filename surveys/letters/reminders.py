"""Printed reminders: for the people of a round who have not finished by either channel
and have no Telegram account to remind them, with their same link and code.

Telegram users get their reminders in the chat (surveys.fieldwork.outbox), and so does
someone reached by letter once they open its link in Telegram too, mid-round
(surveys.fieldwork.rounds.remind_in_chat): they are left out here. The link and
code are derived again from LINK_SECRET and each invite's salt, so the reminder opens the
same person's survey, where they stopped. People whose letter was never opened (an
unused, unexpired invite for one of the round's units) get a reminder too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select
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
    RoundAudience,
    RoundParticipant,
    Unit,
    WebAccount,
    round_units,
)
from storage.types import utcnow
from surveys.errors import PejlingError, Problem
from surveys.letters.invitations import Letter, roles_of
from surveys.registry.invites import (
    code_address,
    deep_link,
    letter_code,
    letter_token,
    web_link,
)

UNFINISHED = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.STARTED,
)


@dataclass(frozen=True)
class ReminderBatch:
    """The reminder letters of a round, and who got none and why."""

    letters: list[Letter]
    started: int  # of them, people who opened their letter but have not finished
    never_opened: int  # of them, letters never opened


async def reminder_letters(
    session: AsyncSession,
    round_id: int,
    *,
    bot_username: str,
    secret: bytes,
    public_url: str,
    now: datetime | None = None,
) -> ReminderBatch:
    """Reminder letters for round ``round_id``: people without Telegram who have not
    finished (by either channel) and have not stopped, and letters never opened."""
    now = now or utcnow()
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise PejlingError(Problem.NO_ROUND, round_id=round_id)
    if round_.closed_at is not None or round_.closes_at <= now:
        raise PejlingError(Problem.ROUND_CLOSED_FOR_REMINDERS, round_id=round_id)
    roles = [role.value for role in roles_of(RoundAudience(round_.audience))]
    in_round = Citizen.unit_id.in_(
        select(round_units.c.unit_id).where(round_units.c.round_id == round_id)
    )
    unfinished = or_(
        # Not yet in the round: a round takes in, at its start, web-only people who have
        # accepted the information; one who opened the letter but has not accepted it yet
        # is taken in at their next visit ...
        ~exists().where(
            RoundParticipant.round_id == round_id,
            RoundParticipant.respondent_id == Respondent.id,
        ),
        # ... or in it with a delivery still open. A finished anonymous delivery names
        # nobody, so taking part without an open delivery means finished.
        exists().where(
            Delivery.round_id == round_id,
            Delivery.respondent_id == Respondent.id,
            Delivery.status.in_(UNFINISHED),
        ),
    )
    opened = await session.execute(
        select(Respondent.kind, Citizen, Unit.name, Invite.salt)
        .join(Citizen, Citizen.id == Respondent.citizen_id)
        .join(Unit, Unit.id == Citizen.unit_id)
        .join(Invite, Invite.respondent_id == Respondent.id)
        .outerjoin(WebAccount, WebAccount.respondent_id == Respondent.id)
        .where(
            in_round,
            Citizen.status == CitizenStatus.ACTIVE,
            Respondent.kind.in_(roles),
            Respondent.account_id.is_(None),  # Telegram users are reminded in the chat
            WebAccount.stopped_at.is_(None),
            Invite.salt.is_not(None),
            unfinished,
        )
        .order_by(Unit.name, Citizen.first_name.is_(None), Citizen.first_name, Respondent.id)
    )
    never = await session.execute(
        select(Invite.role, Citizen, Unit.name, Invite.salt, Invite.expires_at)
        .join(Citizen, Citizen.id == Invite.citizen_id)
        .join(Unit, Unit.id == Citizen.unit_id)
        .where(
            in_round,
            Citizen.status == CitizenStatus.ACTIVE,
            Invite.role.in_(roles),
            Invite.used_at.is_(None),
            Invite.expires_at > now,
            Invite.salt.is_not(None),
        )
        .order_by(Unit.name, Citizen.first_name.is_(None), Citizen.first_name, Invite.id)
    )

    def letter(
        role: str, citizen: Citizen, unit_name: str, salt: str | None, until: datetime
    ) -> Letter:
        assert salt is not None  # selected only with one
        token = letter_token(secret, salt)
        return Letter(
            role=InviteRole(role),
            unit_name=unit_name,
            first_name=citizen.first_name,
            external_ref=citizen.external_ref,
            number=1,
            of=1,
            link=deep_link(bot_username, token),
            token=token,
            expires_at=until,
            web_link=web_link(public_url, token),
            code=letter_code(secret, salt),
            code_address=code_address(public_url),
            reminder=True,
        )

    started = [
        letter(kind, citizen, unit, salt, round_.closes_at) for kind, citizen, unit, salt in opened
    ]
    unopened = [
        letter(role, citizen, unit, salt, min(expires, round_.closes_at))
        for role, citizen, unit, salt, expires in never
    ]
    return ReminderBatch(
        letters=started + unopened, started=len(started), never_opened=len(unopened)
    )
