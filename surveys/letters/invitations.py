"""Invitation letters: a fresh invite for each letter, and the links as CSV for mail merge.

Printing letters again for the same people replaces their unused invites, so only the
newest letter works and valid links do not pile up in drawers. Someone who already
joined with an earlier invite gets no new letter: a second invite would make them a
second respondent for the same citizen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, CitizenStatus, Invite, InviteRole, RoundAudience, Unit
from storage.types import utcnow
from surveys.clock import DANISH_TIME
from surveys.registry.invites import (
    code_address,
    deep_link,
    format_code,
    issue_invites,
    web_link,
)


@dataclass(frozen=True)
class Letter:
    """One printed invitation: who it is for, and the links and code it carries.

    ``link`` opens the bot in Telegram; ``web_link`` (printed, and in the QR code) opens
    the landing page offering "Svar her" and "Åbn i Telegram"; ``code`` can be typed at
    ``code_address`` instead.
    """

    role: InviteRole  # citizen or relative
    unit_name: str
    first_name: str | None
    external_ref: str | None
    number: int  # this relative's letter is number `number` of `of`; 1 of 1 for a citizen
    of: int
    link: str
    token: str
    expires_at: datetime
    web_link: str
    code: str  # without dashes; ``printed_code`` is how it is printed
    code_address: str
    reminder: bool = False  # a reminder letter, printed for someone who has not answered

    @property
    def printed_code(self) -> str:
        """The short code in groups, e.g. ``K7QM-2XPA-9D``."""
        return format_code(self.code)

    @property
    def last_day(self) -> date:
        """The last whole day (Danish time) on which the link works, as printed."""
        return (self.expires_at.astimezone(DANISH_TIME) - timedelta(days=1)).date()


@dataclass(frozen=True)
class LetterBatch:
    """The letters for a unit, and what printing them changed."""

    letters: list[Letter]
    replaced: int  # earlier unused invites that no longer work
    already_joined: int  # citizens and relatives left out because they joined before


def roles_of(audience: RoundAudience) -> list[InviteRole]:
    """Whose letters a round's audience means."""
    return {
        RoundAudience.CITIZENS: [InviteRole.CITIZEN],
        RoundAudience.RELATIVES: [InviteRole.RELATIVE],
        RoundAudience.BOTH: [InviteRole.CITIZEN, InviteRole.RELATIVE],
    }[audience]


async def issue_letters(
    session: AsyncSession,
    unit: Unit,
    audience: RoundAudience,
    *,
    bot_username: str,
    ttl: timedelta,
    secret: bytes,
    public_url: str,
    now: datetime | None = None,
) -> LetterBatch:
    """Fresh invites for every active citizen of a unit (and as many relatives as each
    citizen has asked for), replacing their earlier unused ones. Each letter's token and
    code are derived from LINK_SECRET (``secret``), so reminders can print them again."""
    now = now or utcnow()
    citizens = (
        await session.execute(
            select(Citizen)
            .where(Citizen.unit_id == unit.id, Citizen.status == CitizenStatus.ACTIVE)
            # By name, for the staff who hand them out; the nameless last on every database.
            .order_by(Citizen.first_name.is_(None), Citizen.first_name, Citizen.id)
        )
    ).scalars()
    letters: list[Letter] = []
    replaced = already_joined = 0
    for citizen in citizens:
        for role in roles_of(audience):
            wanted = 1 if role == InviteRole.CITIZEN else citizen.relatives_wanted
            joined = await _used_invites(session, citizen, role)
            count = max(wanted - joined, 0)
            already_joined += min(joined, wanted)
            replaced += await _expire_unused(session, citizen, role, now)
            if count == 0:
                continue
            issued = await issue_invites(
                session,
                role,
                ttl=ttl,
                count=count,
                citizen_id=citizen.id,
                now=now,
                secret=secret,
            )
            letters.extend(
                Letter(
                    role=role,
                    unit_name=unit.name,
                    first_name=citizen.first_name,
                    external_ref=citizen.external_ref,
                    number=number,
                    of=count,
                    link=deep_link(bot_username, invite.token),
                    token=invite.token,
                    expires_at=now + ttl,
                    web_link=web_link(public_url, invite.token),
                    code=invite.code or "",
                    code_address=code_address(public_url),
                )
                for number, invite in enumerate(issued, start=1)
            )
    return LetterBatch(letters=letters, replaced=replaced, already_joined=already_joined)


async def _used_invites(session: AsyncSession, citizen: Citizen, role: InviteRole) -> int:
    used = await session.scalar(
        select(func.count())
        .select_from(Invite)
        .where(Invite.citizen_id == citizen.id, Invite.role == role, Invite.used_at.is_not(None))
    )
    return int(used or 0)


async def _expire_unused(
    session: AsyncSession, citizen: Citizen, role: InviteRole, now: datetime
) -> int:
    expired = await session.execute(
        update(Invite)
        .where(
            Invite.citizen_id == citizen.id,
            Invite.role == role,
            Invite.used_at.is_(None),
            Invite.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(expired, "rowcount", 0) or 0)


CSV_COLUMNS = (
    "unit",
    "external_ref",
    "first_name",
    "recipient",
    "letter",
    "letters",
    "link",
    "web_link",
    "code",
    "code_address",
    "valid_until",
)


def letters_csv(letters: Sequence[Letter]) -> bytes:
    """The letters' links and codes for mail merge: semicolon-separated UTF-8 with a byte
    order mark, which Danish Excel and Word open as they are."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for letter in letters:
        writer.writerow(
            [
                letter.unit_name,
                letter.external_ref or "",
                letter.first_name or "",
                letter.role.value,
                letter.number,
                letter.of,
                letter.link,
                letter.web_link,
                letter.printed_code,
                letter.code_address,
                letter.last_day.isoformat(),
            ]
        )
    return out.getvalue().encode("utf-8-sig")
