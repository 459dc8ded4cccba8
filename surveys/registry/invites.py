"""Invite tokens: random, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, CitizenStatus, Invite, InviteRole, Unit
from storage.types import utcnow
from surveys.errors import PejlingError, Problem

TOKEN_BYTES = 24  # 192 bits; 32 URL-safe characters, within Telegram's 64 for a start parameter
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token() -> str:
    """A fresh random invite token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 of a token, as stored in the database."""
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    """The t.me link that opens the bot with this invite."""
    return f"https://t.me/{bot_username}?start={token}"


@dataclass(frozen=True)
class IssuedInvite:
    token: str
    invite_id: int


async def issue_invites(
    session: AsyncSession,
    role: InviteRole,
    *,
    ttl: timedelta,
    count: int = 1,
    unit_id: int | None = None,
    citizen_id: int | None = None,
    now: datetime | None = None,
) -> list[IssuedInvite]:
    """Create ``count`` invites for a role, bound to a unit and (for citizens and
    relatives) a citizen. Returns the tokens, which are not stored anywhere."""
    if count < 1 or count > 50:
        raise PejlingError(Problem.INVITE_COUNT)
    now = now or utcnow()
    if role in (InviteRole.CITIZEN, InviteRole.RELATIVE):
        citizen = await session.get(Citizen, citizen_id) if citizen_id is not None else None
        if citizen is None:
            raise PejlingError(Problem.NO_CITIZEN, citizen_id=citizen_id)
        if citizen.status != CitizenStatus.ACTIVE:
            raise PejlingError(Problem.CITIZEN_LEFT, citizen_id=citizen_id, status=citizen.status)
        if role == InviteRole.CITIZEN:
            count = 1
        unit_id = citizen.unit_id
    elif role == InviteRole.STAFF and (unit_id is None or await session.get(Unit, unit_id) is None):
        raise PejlingError(Problem.NO_UNIT_ID, unit_id=unit_id)
    issued = []
    for _ in range(count):
        token = new_token()
        invite = Invite(
            token_hash=hash_token(token),
            role=role,
            unit_id=unit_id,
            citizen_id=citizen_id,
            expires_at=now + ttl,
        )
        session.add(invite)
        await session.flush()
        issued.append(IssuedInvite(token=token, invite_id=invite.id))
    return issued


async def find_invite(session: AsyncSession, token: str) -> Invite | None:
    """The invite behind a token, or None for anything unknown or malformed."""
    if not TOKEN_SHAPE.match(token):
        return None
    result = await session.execute(select(Invite).where(Invite.token_hash == hash_token(token)))
    return result.scalar_one_or_none()
