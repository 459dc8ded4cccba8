"""Who may export what: coordinators every unit, staff their own units (see
``surveys.registry.staff``), nobody else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Round, SurveyVersion, round_units
from surveys.clock import DANISH_TIME
from surveys.indicators import Selection
from surveys.registry.staff import StaffScope


@dataclass(frozen=True)
class RoundChoice:
    """A round someone may export, as offered in a list."""

    id: int
    opens_at: datetime
    survey_id: str
    version: int
    units: int


def units_shown(scope: StaffScope) -> list[int] | None:
    """The units a staff member may see in an export, or None for every unit."""
    return None if scope.coordinator else scope.unit_ids


async def rounds_for(session: AsyncSession, scope: StaffScope, limit: int = 6) -> list[RoundChoice]:
    """The newest rounds the staff member may export, newest first."""
    query = (
        select(
            Round.id,
            Round.opens_at,
            SurveyVersion.survey_id,
            SurveyVersion.version,
            func.count(round_units.c.unit_id),
        )
        .join(SurveyVersion, SurveyVersion.id == Round.survey_version_id)
        .join(round_units, round_units.c.round_id == Round.id)
        .group_by(Round.id, Round.opens_at, SurveyVersion.survey_id, SurveyVersion.version)
        .order_by(Round.opens_at.desc(), Round.id.desc())
        .limit(limit)
    )
    if not scope.coordinator:
        mine = select(round_units.c.round_id).where(round_units.c.unit_id.in_(scope.unit_ids))
        query = query.where(Round.id.in_(mine))
    return [RoundChoice(*row) for row in (await session.execute(query)).all()]


async def may_export_round(session: AsyncSession, scope: StaffScope, round_id: int) -> bool:
    """True if the round exists and the staff member may see at least one of its units."""
    units = set(
        (
            await session.execute(
                select(round_units.c.unit_id).where(round_units.c.round_id == round_id)
            )
        ).scalars()
    )
    if not units:
        return False
    return scope.coordinator or bool(units & set(scope.unit_ids))


def file_stem(selection: Selection) -> str:
    """A file name (without extension) naming what an export covers."""
    if not selection.is_period:
        return f"pejling-runde-{selection.round_ids[0]}"
    first: date = selection.start.astimezone(DANISH_TIME).date()
    last: date = (selection.end.astimezone(DANISH_TIME) - timedelta(days=1)).date()
    return f"pejling-{first.isoformat()}-til-{last.isoformat()}"
