"""Units and citizens, as the municipality registers them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, Unit, UnitKind
from surveys.errors import PejlingError, Problem

MAX_NAME = 100


async def add_unit(session: AsyncSession, name: str, kind: str) -> Unit:
    """Register a care unit; names are unique."""
    name = name.strip()
    if not name:
        raise PejlingError(Problem.UNIT_NAME_MISSING)
    if kind not in {k.value for k in UnitKind}:
        raise PejlingError(Problem.UNKNOWN_UNIT_KIND, kind=kind)
    if await _unit_named(session, name) is not None:
        raise PejlingError(Problem.UNIT_EXISTS, name=name)
    unit = Unit(name=name, kind=kind)
    session.add(unit)
    await session.flush()
    return unit


async def find_unit(session: AsyncSession, ref: str) -> Unit:
    """A unit by id or by name (case-insensitive)."""
    ref = ref.strip()
    unit = None
    if ref.isdigit():
        unit = await session.get(Unit, int(ref))
    if unit is None:
        unit = await _unit_named(session, ref)
    if unit is None:
        raise PejlingError(Problem.NO_UNIT_NAMED, ref=ref)
    return unit


async def _unit_named(session: AsyncSession, name: str) -> Unit | None:
    # Compared in Python: SQLite's lower() folds only ASCII, and "Åbakken" must match "åbakken".
    # A municipality has tens or hundreds of units, never enough for this to matter.
    wanted = name.casefold()
    for unit in await list_units(session):
        if unit.name.casefold() == wanted:
            return unit
    return None


async def list_units(session: AsyncSession) -> list[Unit]:
    """Every unit, by name."""
    return list((await session.execute(select(Unit).order_by(Unit.name))).scalars())


def clean_first_name(first_name: str | None) -> str | None:
    """A first name stripped of blanks (None when empty); refused with digits or too long."""
    if first_name is not None:
        first_name = first_name.strip() or None
        if first_name and (len(first_name) > MAX_NAME or any(ch.isdigit() for ch in first_name)):
            raise PejlingError(Problem.BAD_FIRST_NAME)
    return first_name


async def add_citizen(session: AsyncSession, unit: Unit, first_name: str | None) -> Citizen:
    """Register a citizen in a unit; only a first name, never a CPR number."""
    first_name = clean_first_name(first_name)
    citizen = Citizen(unit_id=unit.id, first_name=first_name)
    session.add(citizen)
    await session.flush()
    return citizen
