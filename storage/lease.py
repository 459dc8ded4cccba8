"""A lease in the database: at most one process holds a named role at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SenderLease
from storage.upsert import upsert


async def hold_lease(
    session: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta
) -> tuple[bool, bool]:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``.

    Returns (held, fresh): whether ``holder`` holds it now, and whether it just took it
    over (then anything the previous holder left half-done is the new holder's to finish).
    """
    await upsert(
        session,
        SenderLease,
        {"name": name, "holder": holder, "expires_at": now + ttl},
        conflict=("name",),
    )
    before = await session.scalar(select(SenderLease.holder).where(SenderLease.name == name))
    result = await session.execute(
        update(SenderLease)
        .where(
            SenderLease.name == name,
            or_(SenderLease.holder == holder, SenderLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    held = getattr(result, "rowcount", 0) == 1
    return held, held and before != holder


async def release_lease(session: AsyncSession, name: str, holder: str) -> None:
    """Give the lease up at once (a clean shutdown), so another process can take over."""
    await session.execute(
        update(SenderLease)
        .where(SenderLease.name == name, SenderLease.holder == holder)
        .values(expires_at=datetime(2000, 1, 1).astimezone())
        .execution_options(synchronize_session=False)
    )
