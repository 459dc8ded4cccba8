"""Invite tokens: random or derived, shown once, stored only as a hash.

A letter's invite carries a random salt. Its token (for the QR code, the t.me link and
the web link) and its short code (typed at ``<PUBLIC_URL>/kode``) are HMAC-SHA256 of the
server's LINK_SECRET over that salt, so a reminder letter can print them again, while the
database holds only their SHA-256: a database leak alone opens no survey.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
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


# Crockford's base32: digits and letters without I, L, O and U, which look like others.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits
CODE_GROUPS = (4, 4, 2)  # printed as K7QM-2XPA-9D
SALT_BYTES = 16
# What a person may type for a look-alike: Crockford's decoding rules.
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_token() -> str:
    """A fresh random invite token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 of a token, as stored in the database."""
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    """The t.me link that opens the bot with this invite."""
    return f"https://t.me/{bot_username}?start={token}"


def new_salt() -> str:
    """A fresh random salt for a letter's invite (stored in its row)."""
    return secrets.token_hex(SALT_BYTES)


def _derive(secret: bytes, purpose: str, salt: str) -> bytes:
    return hmac.new(secret, f"{purpose}:{salt}".encode(), hashlib.sha256).digest()


def letter_token(secret: bytes, salt: str) -> str:
    """The invite token of a letter: 192 bits derived from LINK_SECRET and the salt."""
    return base64.urlsafe_b64encode(_derive(secret, "token", salt)[:TOKEN_BYTES]).decode()


def letter_code(secret: bytes, salt: str) -> str:
    """The short code of a letter (10 characters, 50 bits), without its dashes."""
    number = int.from_bytes(_derive(secret, "code", salt)[:8], "big") >> (64 - 5 * CODE_LENGTH)
    characters = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, 32)
        characters.append(CODE_ALPHABET[digit])
    return "".join(reversed(characters))


def format_code(code: str) -> str:
    """A code as printed: in groups, e.g. ``K7QM-2XPA-9D``."""
    parts, start = [], 0
    for size in CODE_GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(parts)


def normalise_code(text: str) -> str | None:
    """A typed code in its stored form (case, spaces, dashes and look-alikes forgiven);
    None when it cannot be a code at all."""
    code = re.sub(r"[\s\-.]", "", text).upper().translate(_LOOK_ALIKES)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def hash_code(code: str) -> str:
    """The SHA-256 of a normalised code, as stored in the database."""
    return hashlib.sha256(f"code:{code}".encode()).hexdigest()


def web_link(public_url: str, token: str) -> str:
    """The letter's web address: a landing page offering "Svar her" and "Åbn i Telegram"."""
    return f"{public_url.rstrip('/')}/l/{token}"


def code_address(public_url: str) -> str:
    """Where a person types the letter's short code."""
    return f"{public_url.rstrip('/')}/kode"


@dataclass(frozen=True)
class IssuedInvite:
    token: str
    invite_id: int
    code: str | None = None  # a letter's short code (with LINK_SECRET), without dashes


async def issue_invites(
    session: AsyncSession,
    role: InviteRole,
    *,
    ttl: timedelta,
    count: int = 1,
    unit_id: int | None = None,
    citizen_id: int | None = None,
    now: datetime | None = None,
    secret: bytes | None = None,
) -> list[IssuedInvite]:
    """Create ``count`` invites for a role, bound to a unit and (for citizens and
    relatives) a citizen. Returns the tokens, which are not stored anywhere. With
    ``secret`` (LINK_SECRET) the token and a short code are derived from a stored salt."""
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
        salt = new_salt() if secret is not None else None
        token = letter_token(secret, salt) if secret is not None and salt else new_token()
        code = letter_code(secret, salt) if secret is not None and salt else None
        invite = Invite(
            token_hash=hash_token(token),
            role=role,
            unit_id=unit_id,
            citizen_id=citizen_id,
            salt=salt,
            code_hash=hash_code(code) if code else None,
            expires_at=now + ttl,
        )
        session.add(invite)
        await session.flush()
        issued.append(IssuedInvite(token=token, invite_id=invite.id, code=code))
    return issued


async def find_invite(session: AsyncSession, token: str) -> Invite | None:
    """The invite behind a token, or None for anything unknown or malformed."""
    if not TOKEN_SHAPE.match(token):
        return None
    result = await session.execute(select(Invite).where(Invite.token_hash == hash_token(token)))
    return result.scalar_one_or_none()
