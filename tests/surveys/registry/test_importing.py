"""Importing units and citizens from CSV: every bad row named, nothing half-written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Citizen, CitizenStatus, Invite, InviteRole, Unit, UnitKind
from surveys.errors import PejlingError
from surveys.registry import importing, people
from surveys.registry.invites import issue_invites

HEADER = "unit,first name,external reference,care kind,relatives\n"


async def two_units(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        home = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        care = await people.add_unit(session, "Hjemmeplejen Nord", "home_care")
        await session.commit()
        return home.id, care.id


async def citizens(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Citizen]:
    async with sessions() as session:
        found = (await session.execute(select(Citizen))).scalars()
        return {c.external_ref or "": c for c in found}


async def run_import(
    sessions: async_sessionmaker[AsyncSession], text: str, *, skip: bool = False
) -> importing.ImportResult:
    async with sessions() as session:
        result = await importing.import_citizens(
            session, text.encode(), source="borgere.csv", skip_bad_rows=skip
        )
        await session.commit()
        return result


async def test_every_bad_row_is_named_with_its_line_and_nothing_is_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await two_units(sessions)
    text = HEADER + (
        "Plejecenter Åbakken,Anna,B-001,care_home,2\n"  # line 2: good
        "Hjemmeplejen Nord,Karl,0101501234,home_care,0\n"  # 3
        "Hjemmeplejen Nord,Karl,K 010150-1234,home_care,0\n"  # 4
        "Plejecenter Nowhere,Ib,B-004,care_home,0\n"  # 5
        "Hjemmeplejen Nord,Inge,B-005,plejecenter,1\n"  # 6
        "Hjemmeplejen Nord,Inge,B-006,sygehus,1\n"  # 7
        "Hjemmeplejen Nord,Inge,,home_care,1\n"  # 8
        "Hjemmeplejen Nord,Bent,B-001,home_care,1\n"  # 9
        "Hjemmeplejen Nord,Bent,B-009,home_care,mange\n"  # 10
        "Hjemmeplejen Nord,Bent2,B-010,home_care,1\n"  # 11
        "Hjemmeplejen Nord,Bent,B-011,home_care,1,extra\n"  # 12
        "\n"
        "Hjemmeplejen Nord,Åse,B-014,hjemmepleje,\n"  # 14: good, after a blank line
    )
    result = await run_import(sessions, text)

    cpr = (
        "the reference looks like a CPR number (ligner et CPR-nummer): Pejling stores no CPR "
        "numbers, so use the municipality's own reference instead (brug kommunens egen reference)"
    )
    assert [str(bad) for bad in result.bad_rows] == [
        f"line 3: {cpr}",
        f"line 4: {cpr}",
        "line 5: unknown unit 'Plejecenter Nowhere' "
        "(import the units first; see `pejling unit list`)",
        "line 6: the care kind care_home does not match the unit 'Hjemmeplejen Nord', "
        "which is home_care",
        "line 7: unknown care kind 'sygehus': "
        "use care_home (plejecenter, plejebolig) or home_care (hjemmepleje)",
        "line 8: no external reference (the municipality's own reference for the citizen)",
        "line 9: the reference 'B-001' is also on line 2",
        "line 10: the number of relatives must be a whole number from 0 to 10, not 'mange'",
        "line 11: a first name has no digits and at most 100 characters",
        "line 12: the row has 6 fields, but the first line names 5",
    ]
    # The CPR number itself is never repeated back (it would land in logs and terminals).
    assert not any("010150" in str(bad) for bad in result.bad_rows)
    assert not result.written and result.added == 2
    assert await citizens(sessions) == {}

    skipped = await run_import(sessions, text, skip=True)
    assert skipped.written and (skipped.added, len(skipped.bad_rows)) == (2, 10)
    stored = await citizens(sessions)
    assert set(stored) == {"B-001", "B-014"}
    assert (stored["B-001"].first_name, stored["B-001"].relatives_wanted) == ("Anna", 2)
    assert (stored["B-014"].first_name, stored["B-014"].relatives_wanted) == ("Åse", 0)


async def test_importing_again_changes_nothing_and_a_new_unit_moves_the_citizen(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, care = await two_units(sessions)
    # Danish Excel: a byte order mark, semicolons and Danish column names.
    danish = (
        "\ufeffEnhed;Fornavn;Reference;Plejeform;Pårørende\r\n"
        "Plejecenter Åbakken;Anna;B-001;plejebolig;2\r\n"
        "hjemmeplejen nord;;B-002;Hjemmepleje;0\r\n"
    )
    first = await run_import(sessions, danish)
    assert first.summary() == ("citizens: 2 added, 0 moved to another unit, 0 updated, 0 unchanged")
    again = await run_import(sessions, danish)
    assert (again.added, again.unchanged, again.written) == (0, 2, True)
    before = await citizens(sessions)
    assert len(before) == 2 and before["B-002"].first_name is None

    async with sessions() as session:
        [unused] = await issue_invites(
            session, InviteRole.RELATIVE, ttl=timedelta(days=30), citizen_id=before["B-001"].id
        )
        await session.commit()

    moved = HEADER + (
        "Hjemmeplejen Nord,Anna,B-001,home_care,1\nHjemmeplejen Nord,Bo,B-002,home_care,0\n"
    )
    result = await run_import(sessions, moved)
    assert (result.moved, result.updated, result.added) == (1, 1, 0)
    after = await citizens(sessions)
    assert after["B-001"].id == before["B-001"].id  # the same person, not a new one
    assert (after["B-001"].unit_id, after["B-001"].relatives_wanted) == (care, 1)
    assert after["B-002"].first_name == "Bo"
    async with sessions() as session:
        invite = await session.get(Invite, unused.invite_id)
        assert invite is not None and invite.unit_id == care


async def test_a_citizen_who_has_left_is_not_imported_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await two_units(sessions)
    await run_import(sessions, HEADER + "Plejecenter Åbakken,Anna,B-001,care_home,0\n")
    async with sessions() as session:
        citizen = (await session.execute(select(Citizen))).scalar_one()
        citizen.status = CitizenStatus.DIED
        await session.commit()
    result = await run_import(sessions, HEADER + "Plejecenter Åbakken,Anna,B-001,care_home,0\n")
    # Skipped with a note, not refused: the rest of the file is imported (issue 14).
    assert result.bad_rows == () and result.written
    assert [str(note) for note in result.left] == [
        "line 2: skipped: the citizen with reference 'B-001' has left (died)"
    ]
    async with sessions() as session:
        citizen = (await session.execute(select(Citizen))).scalar_one()
        assert citizen.status == CitizenStatus.DIED


async def test_units_import_adds_new_units_and_names_its_bad_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await two_units(sessions)
    text = (
        "navn;plejeform\n"
        "Plejecenter Åbakken;plejecenter\n"  # 2: already there, same kind
        "Plejecenter Solgården;plejebolig\n"  # 3: new
        "Hjemmeplejen Nord;care_home\n"  # 4: already there as home care
        ";hjemmepleje\n"  # 5
        "Hjemmeplejen Syd;hospital\n"  # 6
        "plejecenter solgården;plejecenter\n"  # 7: the same as line 3
    )
    async with sessions() as session:
        refused = await importing.import_units(session, text.encode(), source="enheder.csv")
        await session.commit()
    assert [str(bad) for bad in refused.bad_rows] == [
        "line 4: the unit 'Hjemmeplejen Nord' is already registered as home_care; "
        "an import does not change a unit's kind",
        "line 5: the unit has no name",
        "line 6: unknown kind 'hospital': "
        "use care_home (plejecenter, plejebolig) or home_care (hjemmepleje)",
        "line 7: the unit 'plejecenter solgården' is also on line 3",
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Unit)) == 2
        result = await importing.import_units(
            session, text.encode(), source="enheder.csv", skip_bad_rows=True
        )
        await session.commit()
    assert result.summary() == "units: 1 added, 1 unchanged, 4 bad rows skipped"
    async with sessions() as session:
        added = await people.find_unit(session, "Plejecenter Solgården")
    assert added.kind == UnitKind.CARE_HOME


@pytest.mark.parametrize(
    ("value", "is_cpr"),
    [
        ("0101501234", True),
        ("010150-1234", True),
        ("010150 1234", True),
        ("Borger 290200-1234", True),  # 29 February 2000 was a real day
        ("9912345678", True),  # ten digits are refused whatever the date
        ("320150-1234", False),  # no 32nd day
        ("290201-1234", False),  # no 29 February 1901 or 2001
        ("B-0042", False),
        ("K-2024-000123", False),
        ("12345678901", False),
    ],
)
def test_cpr_numbers_are_recognised(value: str, is_cpr: bool) -> None:
    assert importing.looks_like_cpr(value) is is_cpr


def test_files_pejling_cannot_read_are_refused_with_the_reason() -> None:
    columns = importing.CITIZEN_COLUMNS
    latin1 = (HEADER + "Plejecenter Åbakken,Åse,B-1,care_home,0\n").encode("cp1252")
    with pytest.raises(PejlingError, match=r"^x.csv: the file is not UTF-8 text; in Excel, save"):
        importing.read_rows(latin1, columns, "x.csv")
    with pytest.raises(PejlingError, match=r"^x.csv: line 1: unknown column 'CPR'; .*no other"):
        importing.read_rows(b"unit;fornavn;CPR;reference;care kind;relatives\n", columns, "x.csv")
    with pytest.raises(
        PejlingError, match=r"^x.csv: line 1: no column 'care kind' \('plejeform'\)"
    ):
        importing.read_rows(b"unit,first name,reference,relatives\n", columns, "x.csv")
    with pytest.raises(PejlingError, match=r"^x.csv: the file is empty"):
        importing.read_rows(b"\xef\xbb\xbf\n", columns, "x.csv")
    huge = HEADER.encode() + b"Plejecenter \xc3\x85bakken,Anna,B-1,care_home,0\n" + b"x" * 200_000
    with pytest.raises(PejlingError, match=r"^x.csv: line 3: field larger than field limit"):
        importing.read_rows(huge, columns, "x.csv")
