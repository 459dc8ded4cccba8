"""Exports: the XLSX a coordinator opens, the tidy CSV, the PNG charts, and flat memory.

The figures themselves are checked on both databases in test_indicators.py; the files are
made from a finished report, so these tests run on SQLite only.
"""

from __future__ import annotations

import csv
import io
import struct
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from surveys.exports.charts import theme_charts
from surveys.exports.csv import csv_bytes, write_csv
from surveys.exports.xlsx import write_xlsx
from surveys.indicators import Report, compute_report, round_selection
from tests.surveys import indicator_data as data

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EVERYTHING = {"H1": 1, "E1": 4, "E2": 1, "E3": 1, "E4": 1, "M1": 1, "K2": 1, "V1": 1, "A1": 1}
MIXED = {"H1": 1, "E1": 1, "E2": 3, "E3": 3, "E4": 3, "M1": 4, "K2": 4, "V1": 4, "A1": 4}


async def scenario(sessions: async_sessionmaker[AsyncSession]) -> Report:
    """Three care homes: A (10 answers), B (20), C (6 invited: never shown); and a round
    before, so there is a trend."""
    async with sessions() as session:
        a = await data.unit(session, "Plejecenter A", citizens=20)
        b = await data.unit(session, "Plejecenter B", citizens=60)
        c = await data.unit(session, "Plejecenter C", citizens=10)
        before = await data.round_(session, [a, b, c], opens=data.T0 - timedelta(days=90))
        await data.people(session, before, a, 10, MIXED)
        await data.people(session, before, b, 20, MIXED)
        await data.people(session, before, c, 6, MIXED)
        now = await data.round_(session, [a, b, c])
        await data.people(session, now, a, 10, EVERYTHING, comment="God mad")
        await data.people(session, now, b, 10, EVERYTHING)
        await data.people(session, now, b, 10, MIXED)
        await data.people(session, now, c, 6, EVERYTHING, comment="Navnet Hansen")
        await session.commit()
        return await compute_report(session, await round_selection(session, now.id))


def rows_of(sheet: Worksheet) -> list[tuple[object, ...]]:
    return list(sheet.iter_rows(values_only=True))


def row_for(sheet: Worksheet, *first: str) -> tuple[object, ...]:
    for row in rows_of(sheet):
        if tuple(row[: len(first)]) == first:
            return row
    raise AssertionError(f"no row {first} in {sheet.title}")


async def test_xlsx_has_a_sheet_per_view_and_hides_small_units(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    report = await scenario(sessions)
    path = tmp_path / "rapport.xlsx"
    write_xlsx(report, path)
    book = load_workbook(path)
    assert book.sheetnames == [
        "Overblik",
        "Temaer",
        "Spørgsmål",
        "Ensomhed",
        "Svarprocent",
        "Kommentarer",
        "Metode",
        "Grafer",
        "Grafdata",
    ]
    for name in ("Overblik", "Temaer", "Spørgsmål", "Ensomhed", "Svarprocent"):
        assert book[name].freeze_panes is not None, name

    items = book["Spørgsmål"]
    m1 = "M1: Hvor tilfreds er du med maden?"
    hidden = row_for(items, "Borgere", "Plejecenter C", m1)
    # Not a blank, not a zero: said once, where the first number would be, so the words
    # run on over the empty cells after it (test_xlsx_in_libreoffice.py looks at that).
    assert hidden[4] == "for få svar" and set(hidden[5:]) == {None}
    protecting = row_for(items, "Borgere", "Plejecenter A", m1)
    assert protecting[4] == "skjult (beskytter små tal)" and set(protecting[5:]) == {None}
    b = row_for(items, "Borgere", "Plejecenter B", m1)
    assert b[4:8] == (20, 0, 0, pytest.approx(0.5))
    header = rows_of(items)[3]
    share_column = header.index("Andel positive")
    b_cells = next(
        r for r in items.iter_rows() if r[1].value == "Plejecenter B" and r[2].value == m1
    )
    assert b_cells[share_column].number_format == "0.0 %"  # shown as "50,0 %" in Danish
    total = row_for(items, "Borgere", "Hele kommunen", m1)
    # (20·1 + 60·0.5 + 10·1)/90: C is in the municipality's figure, weighted by citizens.
    assert total[share_column] == pytest.approx(60 / 90)

    # Whatever a reader subtracts, no table has exactly one hidden unit under a shown total.
    protected = 0
    for name, key_columns, value_column in (
        ("Spørgsmål", (0, 2), 4),
        ("Temaer", (0, 2), 3),
        ("Ensomhed", (0, 2), 4),
        ("Svarprocent", (0,), 2),
    ):
        groups: dict[tuple[object, ...], list[tuple[object, ...]]] = {}
        for row in rows_of(book[name])[4:]:
            if row[0] is not None:
                groups.setdefault(tuple(row[i] for i in key_columns), []).append(row)
        for key, group in groups.items():
            [total_row] = [r for r in group if r[1] == "Hele kommunen"]
            if isinstance(total_row[value_column], str):
                continue
            units = [r for r in group if r[1] != "Hele kommunen"]
            hidden_units = [r for r in units if isinstance(r[value_column], str)]
            assert len(hidden_units) != 1, (name, key)
            protected += len(hidden_units) >= 2
    assert protected >= 10

    overview = book["Overblik"]
    b_row = next(r for r in range(1, 20) if overview.cell(r, 2).value == "Plejecenter B")
    assert overview.cell(b_row, 3).value == pytest.approx(0.5)  # loneliness, share positive
    assert overview.cell(b_row, 3).fill.fgColor.rgb == "FFFFC7CE"  # red: under 60 %
    a_row = next(r for r in range(1, 20) if overview.cell(r, 2).value == "Plejecenter A")
    assert overview.cell(a_row, 3).value == "skjult (beskytter små tal)"
    total_at = next(r for r in range(1, 20) if overview.cell(r, 2).value == "Hele kommunen")
    assert overview.cell(total_at, 4).value in {"↑", "↓", "→"}

    lonely = [r for r in rows_of(book["Ensomhed"]) if r[0] == "Borgere"]
    assert lonely and all(r[3] == "højere er værre" for r in lonely)
    comments = [r[2] for r in rows_of(book["Kommentarer"])[4:] if r[2]]
    assert comments == ["God mad"] * 10  # C's comments (6 answers) are not there
    method = " ".join(str(r[0]) for r in rows_of(book["Metode"]) if r[0])
    assert "for få svar" in method and "Newcombe" in method and "HØJERE ER VÆRRE" in method
    assert len(cast(Any, book["Grafer"])._charts) == 5  # one per theme


async def test_csv_is_tidy_danish_and_says_why_a_figure_is_hidden(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    report = await scenario(sessions)
    raw = csv_bytes(report)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert list(table[0]) == [
        "periode",
        "runder",
        "spoergeskema",
        "version",
        "maalgruppe",
        "enhed_id",
        "enhed",
        "type",
        "emne_id",
        "emne",
        "indikator",
        "svarmulighed",
        "vaerdi",
        "retning",
        "status",
        "kanal",
    ]

    def value(unit: str, subject: str, indicator: str) -> dict[str, str]:
        [row] = [
            r
            for r in table
            if (r["enhed"], r["emne_id"], r["indikator"], r["maalgruppe"])
            == (unit, subject, indicator, "Borgere")
        ]
        return row

    assert value("Plejecenter B", "M1", "andel_positive")["vaerdi"] == "0,5"
    assert value("Plejecenter B", "M1", "n")["vaerdi"] == "20"
    hidden = value("Plejecenter C", "M1", "andel_positive")
    assert (hidden["vaerdi"], hidden["status"]) == ("", "for få svar")
    assert value("Plejecenter C", "tils", "andel")["retning"] == "højere er værre"
    assert value("Hele kommunen", "M1", "andel_positive")["vaerdi"] == "0,666667"

    plain = csv_bytes(report, comma=True).decode("utf-8-sig")
    assert plain.splitlines()[0].startswith("periode,runder,")
    rows = list(csv.DictReader(io.StringIO(plain)))
    assert any(r["vaerdi"] == "0.666667" for r in rows)


async def test_png_charts_one_per_theme_for_a_phone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    report = await scenario(sessions)
    charts = theme_charts(report)
    assert [name for name, _ in charts] == [
        "tema-ensomhed.png",
        "tema-mad.png",
        "tema-kontinuitet.png",
        "tema-vaerdighed.png",
        "tema-samlet.png",
    ]
    for _, png in charts:
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        assert width == 1080 and height > width / 2


async def test_csv_export_memory_does_not_grow_with_the_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    answers = {"E1": 4, "E2": 1, "E3": 1, "E4": 1, "M1": 1, "K2": 1, "V1": 2, "A1": 2, "H1": 1}
    async with sessions() as session:
        small_unit = await data.unit(session, "Lille")
        big_unit = await data.unit(session, "Stor")
        small = await data.round_(session, [small_unit])
        big = await data.round_(session, [big_unit], opens=data.T0 + timedelta(days=1))
        await data.bulk(session, small, small_unit, 220, answers, first_id=100_000)
        await data.bulk(session, big, big_unit, 2_200, answers, first_id=200_000)
        await session.commit()

    async def peak(round_id: int) -> int:
        async with sessions() as session:
            tracemalloc.start()
            try:
                report = await compute_report(session, await round_selection(session, round_id))
                write_csv(report, io.StringIO())
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    await peak(small.id)  # warm the caches (compiled SQL, parsed survey)
    small_peak, big_peak = await peak(small.id), await peak(big.id)
    # ~2,000 against ~20,000 answers: the peak stays about the same.
    assert big_peak < small_peak * 1.3 + 100_000, (small_peak, big_peak)
