"""What a staff member may do: staff for their own units, coordinators for all."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InviteRole, RoundDraft, Staff, TelegramAccount, Unit, staff_units
from storage.types import utcnow
from storage.upsert import upsert


@dataclass(frozen=True)
class StaffScope:
    """The staff roles of one Telegram account, merged: the units they may act on."""

    staff_id: int
    coordinator: bool
    units: list[Unit]

    @property
    def unit_ids(self) -> list[int]:
        return [unit.id for unit in self.units]


async def staff_scope(session: AsyncSession, account: TelegramAccount | None) -> StaffScope | None:
    """The account's staff scope, or None for anyone who is not staff."""
    if account is None:
        return None
    rows = (
        await session.execute(select(Staff.id, Staff.role).where(Staff.account_id == account.id))
    ).all()
    if not rows:
        return None
    coordinator = any(role == InviteRole.COORDINATOR for _, role in rows)
    if coordinator:
        units = (await session.execute(select(Unit).order_by(Unit.name))).scalars().all()
    else:
        units = (
            (
                await session.execute(
                    select(Unit)
                    .join(staff_units, staff_units.c.unit_id == Unit.id)
                    .where(staff_units.c.staff_id.in_([staff_id for staff_id, _ in rows]))
                    .distinct()
                    .order_by(Unit.name)
                )
            )
            .scalars()
            .all()
        )
    return StaffScope(staff_id=rows[0][0], coordinator=coordinator, units=list(units))


async def round_draft(session: AsyncSession, account: TelegramAccount) -> RoundDraft:
    """The staff member's /runde choices so far (an empty draft the first time), locked:
    two presses of the wizard at once take turns instead of both creating a draft."""
    mine = select(RoundDraft).where(RoundDraft.account_id == account.id).with_for_update()
    draft = await session.scalar(mine)
    if draft is None:
        await upsert(
            session,
            RoundDraft,
            {"account_id": account.id, "unit_ids": [], "updated_at": utcnow()},
            conflict=("account_id",),
        )
        draft = (await session.execute(mine)).scalar_one()
    return draft


async def discard_draft(session: AsyncSession, draft: RoundDraft) -> None:
    """Forget the choices (the round was started or cancelled)."""
    await session.delete(draft)
