"""Units and citizens, as the municipality registers them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

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


# How a command names a citizen: by the municipality's reference (external_ref) or by
# Pejling's id. A reference may itself be a number, so:
#   "id:12" is always the id, "ref:12" always the reference;
#   anything else is looked up as a reference, and, when it is written with ASCII
#   digits, as an id too; if it is the reference of one citizen and the id of another,
#   the command refuses and asks for "id:" or "ref:" rather than guess.
ID_PREFIX = "id:"
REF_PREFIX = "ref:"


async def find_citizen(session: AsyncSession, ref: str) -> Citizen:
    """A citizen by reference or id, by the rule above; a clear error otherwise."""
    ref = ref.strip()
    if ref.startswith(ID_PREFIX):
        number = ref.removeprefix(ID_PREFIX).strip()
        by_id = await _citizen_by_id(session, number)
        if by_id is None:
            raise PejlingError(Problem.NO_CITIZEN, citizen_id=repr(number))
        return by_id
    if ref.startswith(REF_PREFIX):
        wanted = ref.removeprefix(REF_PREFIX).strip()
        by_ref = await _citizen_by_ref(session, wanted)
        if by_ref is None:
            raise PejlingError(Problem.NO_CITIZEN_WITH_REF, ref=wanted)
        return by_ref
    by_ref = await _citizen_by_ref(session, ref)
    by_id = await _citizen_by_id(session, ref)
    if by_ref is not None and by_id is not None and by_ref.id != by_id.id:
        raise PejlingError(Problem.CITIZEN_REF_AMBIGUOUS, ref=ref, by_ref=by_ref.id, by_id=by_id.id)
    found = by_ref or by_id
    if found is None:
        raise PejlingError(Problem.NO_CITIZEN_BY_EITHER, ref=ref)
    return found


async def _citizen_by_id(session: AsyncSession, text: str) -> Citizen | None:
    if not (text.isascii() and text.isdigit()) or int(text) > 2**31 - 1:
        return None
    return await session.get(Citizen, int(text))


async def _citizen_by_ref(session: AsyncSession, ref: str) -> Citizen | None:
    if not ref:
        return None
    return await session.scalar(select(Citizen).where(Citizen.external_ref == ref))


async def list_citizens(session: AsyncSession, unit: Unit | None = None) -> list[Citizen]:
    """The citizens of a unit (or of all units), by unit name and id, with their unit."""
    statement = (
        select(Citizen)
        .join(Unit, Unit.id == Citizen.unit_id)
        .options(contains_eager(Citizen.unit))
        .order_by(Unit.name, Citizen.id)
    )
    if unit is not None:
        statement = statement.where(Citizen.unit_id == unit.id)
    return list((await session.execute(statement)).scalars())
