"""Importing units and citizens from the municipality's CSV files.

A file is read whole and every row checked before anything is written: a file with a
bad row changes nothing unless the caller asks to skip bad rows, and then the good rows
are written together. Importing the same file again changes nothing; citizens are
recognised by the municipality's own reference (``external_ref``), never by a CPR number.
Citizens and units that are in the database but not in the file are left as they are, and
a row of a citizen who has left (moved out or died) is skipped with a note: an import never
brings them back.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Citizen, CitizenStatus, Invite, Unit, UnitKind
from surveys.errors import PejlingError, Problem
from surveys.registry.people import clean_first_name, list_units

MAX_REF = 64
MAX_UNIT_NAME = 200
MAX_RELATIVES = 10

CARE_KINDS: dict[str, UnitKind] = {
    "care home": UnitKind.CARE_HOME,
    "plejecenter": UnitKind.CARE_HOME,
    "plejebolig": UnitKind.CARE_HOME,
    "plejehjem": UnitKind.CARE_HOME,
    "home care": UnitKind.HOME_CARE,
    "hjemmepleje": UnitKind.HOME_CARE,
}
CARE_KIND_HELP = "use care_home (plejecenter, plejebolig) or home_care (hjemmepleje)"
CPR_REASON = (
    "the reference looks like a CPR number (ligner et CPR-nummer): Pejling stores no CPR "
    "numbers, so use the municipality's own reference instead (brug kommunens egen reference)"
)

# A CPR number is DDMMYY-NNNN; people write it with a hyphen, a space or nothing.
_CPR_INSIDE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})[- ]?\d{4}(?!\d)")
_TEN_DIGITS = re.compile(r"\d{10}")


@dataclass(frozen=True)
class Column:
    """A column of an import file: its field and the header names accepted for it."""

    field: str
    english: str
    danish: str
    aliases: tuple[str, ...] = ()

    def names(self) -> set[str]:
        """Every header this column is known by, normalised."""
        return {
            _header_key(name) for name in (self.field, self.english, self.danish, *self.aliases)
        }


UNIT_COLUMNS = (
    Column("name", "name", "navn", ("unit", "enhed", "unit name", "enhedsnavn")),
    Column("kind", "kind", "plejeform", ("care kind", "type")),
)
CITIZEN_COLUMNS = (
    Column("unit", "unit", "enhed", ("unit name", "enhedsnavn")),
    Column("first_name", "first name", "fornavn", ("name", "navn")),
    Column(
        "external_ref",
        "external reference",
        "reference",
        ("external ref", "ref", "ekstern reference", "referencenummer", "kommunens reference"),
    ),
    Column("care_kind", "care kind", "plejeform", ("kind", "type")),
    Column(
        "relatives",
        "relatives",
        "pårørende",
        ("number of relatives", "antal pårørende", "relatives wanted"),
    ),
)


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, with bad rows and no skipping, would have done)."""

    kind: str
    added: int = 0
    moved: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: tuple[BadRow, ...] = ()
    # Rows of citizens who have left (moved out or died): never brought back, and no
    # reason to refuse the rest of the file.
    left: tuple[BadRow, ...] = ()
    written: bool = False

    def summary(self) -> str:
        """One line for the person who ran the import."""
        parts = [f"{self.added} added"]
        if self.kind == "citizens":
            parts.append(f"{self.moved} moved to another unit")
            parts.append(f"{self.updated} updated")
        parts.append(f"{self.unchanged} unchanged")
        if self.left:
            parts.append(f"{len(self.left)} skipped (left)")
        if self.bad_rows:
            parts.append(f"{len(self.bad_rows)} bad rows skipped")
        return f"{self.kind}: " + ", ".join(parts)


@dataclass(frozen=True)
class Row:
    """A data row of an import file: its line number and its cells by field."""

    line: int
    cells: dict[str, str]


# ---------------------------------------------------------------- reading the file


def _header_key(name: str) -> str:
    return " ".join(re.sub(r"[_\-.]", " ", name).casefold().split())


def decode(data: bytes, source: str) -> str:
    """The text of a CSV file in UTF-8, with or without a byte order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PejlingError(Problem.FILE_NOT_UTF8, source=source) from None


def _delimiter(text: str) -> str:
    # Danish Excel writes semicolons, most other programs commas; the header decides.
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def read_rows(data: bytes, columns: Sequence[Column], source: str) -> list[Row | BadRow]:
    """The data rows of a CSV file, keyed by field; the first line names the columns."""
    header: list[str | None] | None = None
    rows: list[Row | BadRow] = []
    for line, cells in _records(decode(data, source), source):
        if header is None:
            header = _map_header(cells, columns, source)
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            reason = f"the row has {len(cells)} fields, but the first line names {len(header)}"
            rows.append(BadRow(line, reason))
            continue
        values = {column.field: "" for column in columns}
        for field, cell in zip(header, cells, strict=False):
            if field is not None:
                values[field] = cell.strip()
        rows.append(Row(line, values))
    if header is None:
        raise PejlingError(Problem.FILE_EMPTY, source=source, expected=_expected(columns))
    return rows


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    # Each non-blank record with the line it ends on (a quoted cell may span lines).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells
    except csv.Error as error:
        raise PejlingError(
            Problem.FILE_BAD_LINE, source=source, line=reader.line_num, error=error
        ) from None


def _map_header(cells: list[str], columns: Sequence[Column], source: str) -> list[str | None]:
    fields: list[str | None] = []
    for cell in cells:
        key = _header_key(cell)
        if not key:
            fields.append(None)  # a trailing separator leaves an empty header cell
            continue
        column = next((c for c in columns if key in c.names()), None)
        if column is None:
            # Refused rather than ignored: a column Pejling does not need is personal data
            # that should not be handed over at all (data minimisation).
            raise PejlingError(
                Problem.UNKNOWN_COLUMN,
                source=source,
                column=cell.strip(),
                expected=_expected(columns),
            )
        if column.field in fields:
            raise PejlingError(Problem.COLUMN_TWICE, source=source, column=cell.strip())
        fields.append(column.field)
    missing = [c for c in columns if c.field not in fields]
    if missing:
        names = ", ".join(f"{c.english!r} ({c.danish!r})" for c in missing)
        raise PejlingError(
            Problem.MISSING_COLUMN, source=source, names=names, expected=_expected(columns)
        )
    return fields


def _expected(columns: Sequence[Column]) -> str:
    english = ",".join(c.english for c in columns)
    danish = ";".join(c.danish for c in columns)
    return f"the first line names the columns: {english} (or in Danish: {danish})"


# ---------------------------------------------------------------- checking values


def looks_like_cpr(value: str) -> bool:
    """True for ten digits, or DDMMYY-NNNN with a real date anywhere in the value."""
    if _TEN_DIGITS.fullmatch(value.strip()):
        return True
    for match in _CPR_INSIDE.finditer(value):
        day, month, year = (int(part) for part in match.groups())
        for century in (1900, 2000):
            try:
                date(century + year, month, day)
            except ValueError:
                continue
            return True
    return False


def parse_care_kind(value: str) -> UnitKind | None:
    """care_home or home_care from English or Danish words; None when not recognised."""
    return CARE_KINDS.get(_header_key(value))


def _check_ref(ref: str, seen: dict[str, int]) -> list[str]:
    if not ref:
        return ["no external reference (the municipality's own reference for the citizen)"]
    if looks_like_cpr(ref):
        return [CPR_REASON]
    if len(ref) > MAX_REF:
        return [f"the reference is longer than {MAX_REF} characters"]
    if ref in seen:
        return [f"the reference {ref!r} is also on line {seen[ref]}"]
    return []


def _parse_relatives(value: str) -> int | str:
    if not value:
        return 0
    if value.isdigit() and int(value) <= MAX_RELATIVES:
        return int(value)
    return (
        f"the number of relatives must be a whole number from 0 to {MAX_RELATIVES}, not {value!r}"
    )


def _units_by_ref(units: Sequence[Unit]) -> dict[str, Unit]:
    by_ref = {unit.name.casefold(): unit for unit in units}
    by_ref.update({str(unit.id): unit for unit in units})
    return by_ref


# ---------------------------------------------------------------- units


@dataclass(frozen=True)
class _UnitRow:
    name: str
    kind: UnitKind


async def import_units(
    session: AsyncSession, data: bytes, *, source: str, skip_bad_rows: bool = False
) -> ImportResult:
    """Add the units of a CSV file (name, kind); a unit already there is left as it is."""
    existing = {unit.name.casefold(): unit for unit in await list_units(session)}
    seen: dict[str, int] = {}
    good: list[_UnitRow] = []
    bad: list[BadRow] = []
    unchanged = 0
    for row in read_rows(data, UNIT_COLUMNS, source):
        if isinstance(row, BadRow):
            bad.append(row)
            continue
        name, kind_text = row.cells["name"], row.cells["kind"]
        reasons = []
        kind = parse_care_kind(kind_text)
        if not name:
            reasons.append("the unit has no name")
        elif len(name) > MAX_UNIT_NAME:
            reasons.append(f"the unit's name is longer than {MAX_UNIT_NAME} characters")
        elif name.casefold() in seen:
            reasons.append(f"the unit {name!r} is also on line {seen[name.casefold()]}")
        else:
            seen[name.casefold()] = row.line
        if kind is None:
            reasons.append(f"unknown kind {kind_text!r}: {CARE_KIND_HELP}")
        known = existing.get(name.casefold())
        if known is not None and kind is not None and known.kind != kind:
            reasons.append(
                f"the unit {known.name!r} is already registered as {known.kind}; "
                "an import does not change a unit's kind"
            )
        if reasons:
            bad.append(BadRow(row.line, "; ".join(reasons)))
            continue
        assert kind is not None
        if known is not None:
            unchanged += 1
        else:
            good.append(_UnitRow(name, kind))
    result = ImportResult("units", added=len(good), unchanged=unchanged, bad_rows=tuple(bad))
    if bad and not skip_bad_rows:
        return result
    session.add_all(Unit(name=row.name, kind=row.kind) for row in good)
    await session.flush()
    return _written(result)


def _written(result: ImportResult) -> ImportResult:
    return dataclasses.replace(result, written=True)


# ---------------------------------------------------------------- citizens


@dataclass(frozen=True)
class _CitizenRow:
    ref: str
    unit: Unit
    first_name: str | None
    relatives: int


async def import_citizens(
    session: AsyncSession, data: bytes, *, source: str, skip_bad_rows: bool = False
) -> ImportResult:
    """Add or update the citizens of a CSV file, recognised by their external reference;
    a changed unit moves the citizen (and their unused invites) to the new unit."""
    units = _units_by_ref(await list_units(session))
    known = {
        citizen.external_ref: citizen
        for citizen in (
            await session.execute(select(Citizen).where(Citizen.external_ref.is_not(None)))
        ).scalars()
        if citizen.external_ref is not None
    }
    seen: dict[str, int] = {}
    good: list[_CitizenRow] = []
    bad: list[BadRow] = []
    left: list[BadRow] = []
    for row in read_rows(data, CITIZEN_COLUMNS, source):
        if isinstance(row, BadRow):
            bad.append(row)
            continue
        gone = _left(row, known, seen)
        if gone is not None:
            left.append(gone)
            continue
        checked = _check_citizen(row, units, known, seen)
        if isinstance(checked, BadRow):
            bad.append(checked)
            continue
        good.append(checked)

    added = moved = updated = unchanged = 0
    changes: list[tuple[Citizen | None, _CitizenRow]] = []
    for wanted in good:
        citizen = known.get(wanted.ref)
        changes.append((citizen, wanted))
        if citizen is None:
            added += 1
        elif citizen.unit_id != wanted.unit.id:
            moved += 1
        elif (citizen.first_name, citizen.relatives_wanted) != (
            wanted.first_name,
            wanted.relatives,
        ):
            updated += 1
        else:
            unchanged += 1
    result = ImportResult(
        "citizens",
        added=added,
        moved=moved,
        updated=updated,
        unchanged=unchanged,
        bad_rows=tuple(bad),
        left=tuple(left),
    )
    if bad and not skip_bad_rows:
        return result
    for citizen, wanted in changes:
        await _apply(session, citizen, wanted)
    await session.flush()
    return _written(result)


def _left(row: Row, known: dict[str, Citizen], seen: dict[str, int]) -> BadRow | None:
    """The note for a row of a citizen who has left, who is not imported again; None for
    anyone else (a reference twice in the file is still a bad row)."""
    ref = row.cells["external_ref"]
    citizen = known.get(ref)
    if citizen is None or citizen.status == CitizenStatus.ACTIVE or ref in seen:
        return None
    seen[ref] = row.line
    return BadRow(
        row.line, f"skipped: the citizen with reference {ref!r} has left ({citizen.status})"
    )


def _check_citizen(
    row: Row, units: dict[str, Unit], known: dict[str, Citizen], seen: dict[str, int]
) -> _CitizenRow | BadRow:
    cells = row.cells
    ref = cells["external_ref"]
    reasons = _check_ref(ref, seen)
    if not reasons:
        seen[ref] = row.line

    unit = units.get(cells["unit"].casefold())
    if not cells["unit"]:
        reasons.append("no unit")
    elif unit is None:
        reasons.append(
            f"unknown unit {cells['unit']!r} (import the units first; see `pejling unit list`)"
        )

    kind = parse_care_kind(cells["care_kind"])
    if kind is None:
        reasons.append(f"unknown care kind {cells['care_kind']!r}: {CARE_KIND_HELP}")
    elif unit is not None and kind != unit.kind:
        reasons.append(
            f"the care kind {kind} does not match the unit {unit.name!r}, which is {unit.kind}"
        )

    try:
        first_name = clean_first_name(cells["first_name"])
    except PejlingError as error:
        reasons.append(str(error))
        first_name = None

    relatives = _parse_relatives(cells["relatives"])
    if isinstance(relatives, str):
        reasons.append(relatives)

    if reasons:
        return BadRow(row.line, "; ".join(reasons))
    assert unit is not None and isinstance(relatives, int)
    return _CitizenRow(ref=ref, unit=unit, first_name=first_name, relatives=relatives)


async def _apply(session: AsyncSession, citizen: Citizen | None, wanted: _CitizenRow) -> None:
    if citizen is None:
        session.add(
            Citizen(
                unit_id=wanted.unit.id,
                first_name=wanted.first_name,
                external_ref=wanted.ref,
                relatives_wanted=wanted.relatives,
            )
        )
        return
    if citizen.unit_id != wanted.unit.id:
        citizen.unit_id = wanted.unit.id
        # An unused invite follows the citizen, so the person is welcomed to the right unit.
        await session.execute(
            update(Invite)
            .where(Invite.citizen_id == citizen.id, Invite.used_at.is_(None))
            .values(unit_id=wanted.unit.id)
            .execution_options(synchronize_session=False)
        )
    citizen.first_name = wanted.first_name
    citizen.relatives_wanted = wanted.relatives
