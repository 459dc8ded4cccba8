"""The workbook in a real spreadsheet: LibreOffice opens the XLSX headless, as a Danish
coordinator would, and converts it to PDF and to CSV (one file per sheet, cells as shown).

What LibreOffice shows is compared with `pejling export --format csv` for the same round.
Skipped when LibreOffice (`soffice`) is not installed, but failing under CI=true: .ci/run
installs it (Debian: libreoffice-calc-nogui, with fonts-crosextra-carlito, the free font
with Calibri's metrics, so text takes the room it takes in Excel).
"""

from __future__ import annotations

import asyncio
import csv
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import combinations
from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]
import pytest
from openpyxl import load_workbook

from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from tests.surveys import indicator_data as data

PEJLING = str(Path(sys.executable).with_name("pejling"))
SOFFICE = shutil.which("soffice")
# Comma-separated UTF-8, cells as shown (token 9), every sheet to its own file (token 12,
# -1; LibreOffice 7.2 and later). https://help.libreoffice.org/latest/en-US/text/shared/guide/csv_params.html
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,1030,false,true,true,false,false,-1"
# Tools > Options > Language Settings > Languages > Locale setting: Danish.
DANISH = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>da-DK</value></prop></item>
</oor:items>
"""

CITIZEN_GOOD = {"H1": 1, "E1": 4, "E2": 1, "E3": 1, "E4": 1, "M1": 1, "K2": 1, "V1": 1, "A1": 1}
CITIZEN_MIXED = {"H1": 1, "E1": 2, "E2": 2, "E3": 3, "E4": 2, "M1": 3, "K2": 3, "V1": 2, "A1": 4}
RELATIVE_GOOD = {"E5": 1, "M1": 1, "M4": 1, "K5": 1, "V3": 1, "V4": 2, "A1": 1}
RELATIVE_MIXED = {"E5": 3, "M1": 4, "M4": 2, "K5": 3, "V3": 2, "V4": 3, "A1": 4}
LONG_COMMENT = (
    "Personalet er søde og tager sig god tid, men om aftenen er der for få, og så venter "
    "jeg længe på hjælp til at komme i seng. Maden er god, når den er varm, men den kommer "
    "ofte kold. Det ville være dejligt med flere aktiviteter om eftermiddagen."
)


@dataclass(frozen=True)
class Opened:
    """The workbook as written, and as LibreOffice showed it."""

    sheet_names: list[str]
    written: Mapping[str, Sequence[Sequence[object]]]  # openpyxl's reading, by sheet
    shown: dict[str, list[list[str]]]  # LibreOffice's CSV, sheet by sheet
    pdf: pdfium.PdfDocument
    export: list[dict[str, str]]  # `pejling export --format csv`


async def _fill(database_url: str) -> int:
    """Four units, citizens and relatives, two rounds (so there are trend arrows), one unit
    too small to show and one hidden to protect it; returns the later round's id."""
    engine = create_engine(database_url)
    await upgrade(engine)
    try:
        async with session_factory(engine)() as session:
            abakken = await data.unit(session, "Plejecenter Åbakken", citizens=40)
            bakkely = await data.unit(session, "Plejecenter Bakkely", citizens=30)
            nord = await data.unit(session, "Hjemmeplejen Nord", kind="home_care", citizens=50)
            lillebo = await data.unit(session, "Plejecenter Lillebo", citizens=8)
            units = [abakken, bakkely, nord, lillebo]
            before = await data.round_(session, units, opens=data.T0 - timedelta(days=90))
            now = await data.round_(session, units)
            for round_, unit, count, answers, audience in (
                (before, abakken, 12, CITIZEN_MIXED, "citizen"),
                (before, abakken, 12, RELATIVE_MIXED, "relative"),
                (before, bakkely, 10, CITIZEN_GOOD, "citizen"),
                (before, bakkely, 10, CITIZEN_MIXED, "citizen"),
                (before, nord, 20, CITIZEN_GOOD, "citizen"),
                (before, nord, 11, RELATIVE_GOOD, "relative"),
                (now, abakken, 4, CITIZEN_MIXED, "citizen"),
                (now, abakken, 12, RELATIVE_GOOD, "relative"),
                (now, bakkely, 8, CITIZEN_GOOD, "citizen"),
                (now, bakkely, 12, CITIZEN_MIXED, "citizen"),
                (now, bakkely, 3, RELATIVE_GOOD, "relative"),
                (now, nord, 6, CITIZEN_GOOD, "citizen"),
                (now, nord, 15, CITIZEN_MIXED, "citizen"),
                (now, nord, 11, RELATIVE_MIXED, "relative"),
                (now, lillebo, 6, CITIZEN_GOOD, "citizen"),
            ):
                await data.people(session, round_, unit, count, answers, audience=audience)
            # Comments long enough to wrap over several lines of their cell.
            await data.people(session, now, abakken, 14, CITIZEN_GOOD, comment=LONG_COMMENT)
            await session.commit()
            return now.id
    finally:
        await engine.dispose()


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert done.returncode == 0 and not errors, (command, done.stdout, done.stderr)
    return done.stdout


def _csv(path: Path, delimiter: str = ",") -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as file:
        return list(csv.reader(file, delimiter=delimiter))


def _missing() -> str | None:
    """What this machine lacks to show the workbook as Excel would, if anything."""
    if SOFFICE is None:
        return "LibreOffice is not installed (Debian: apt-get install libreoffice-calc-nogui)"
    # The workbook's font is Calibri. Another font in its place takes other room: wider
    # text is cut off, charts (which stretch with their cells) spill over the page.
    fc_match = shutil.which("fc-match")
    family = "" if fc_match is None else _output([fc_match, "-f", "%{family}", "Calibri"])
    if not {"Calibri", "Carlito"} & set(family.split(",")):
        return (
            f"neither Calibri nor its metric twin Carlito is installed (Calibri is shown in "
            f"{family or 'an unknown font'}; Debian: apt-get install fonts-crosextra-carlito)"
        )
    return None


def _output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Opened]:
    problem = _missing()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    assert SOFFICE is not None
    folder = tmp_path_factory.mktemp("libreoffice")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'pejling.db'}"}
    round_id = str(asyncio.run(_fill(env["DATABASE_URL"])))
    book, export = folder / "rapport.xlsx", folder / "rapport.csv"
    for path, kind in ((book, "xlsx"), (export, "csv")):
        _run([PEJLING, "export", "--round", round_id, "--format", kind, "-o", str(path)], env)

    # A profile of its own, so parallel runs (and a LibreOffice someone has open) do not
    # collide; set to Danish, as the coordinators' LibreOffice or Excel is. (In the profile,
    # not by LC_ALL=da_DK.UTF-8: where that locale is not installed, LibreOffice cannot
    # name the file of the sheet "Spørgsmål" and leaves it out without an error.)
    profile = folder / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(DANISH, encoding="utf-8")
    out = folder / "out"
    soffice = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless"]
    for target in ("pdf", CSV_FILTER):
        _run([*soffice, "--convert-to", target, "--outdir", str(out), str(book)], {})

    workbook = load_workbook(book)
    written = {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }
    shown = {path.stem.removeprefix("rapport-"): _csv(path) for path in out.glob("*.csv")}
    header, *rows = _csv(export, delimiter=";")
    pdf = pdfium.PdfDocument(out / "rapport.pdf")
    try:
        yield Opened(
            sheet_names=workbook.sheetnames,
            written=written,
            shown=shown,
            pdf=pdf,
            export=[dict(zip(header, row, strict=True)) for row in rows],
        )
    finally:
        pdf.close()


def _cell(rows: list[list[str]], row: int, column: int) -> str:
    if row >= len(rows) or column >= len(rows[row]):
        return ""
    return rows[row][column]


def test_libreoffice_opens_every_sheet_with_every_text(opened: Opened) -> None:
    assert sorted(opened.shown) == sorted(opened.sheet_names)
    compared = 0
    for name, rows in opened.written.items():
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    assert _cell(opened.shown[name], r, c) == value, (name, r, c)
                    compared += 1
    assert compared > 500


def _percent(text: str) -> float:
    """ "66,7 %" (as a Danish spreadsheet shows 0.667 with the code "0.0 %") -> 66.7."""
    assert re.fullmatch(r"\d{1,3},\d %", text), text
    return float(text.removesuffix(" %").replace(",", "."))


def _arrow(
    export: dict[tuple[str, str, str, str], dict[str, str]], place: tuple[str, str, str]
) -> str:
    significant = export.get((*place, "aendring_signifikant"))
    if significant is None:
        return ""
    if significant["vaerdi"] == "0":
        return "→"
    return "↑" if float(export[(*place, "aendring")]["vaerdi"].replace(",", ".")) > 0 else "↓"


def test_the_overview_shows_the_figures_of_the_csv_export(opened: Opened) -> None:
    export = {
        (row["maalgruppe"], row["enhed"], row["emne"], row["indikator"]): row
        for row in opened.export
        if row["type"] == "tema"
    }
    rows = opened.shown["Overblik"]
    at = next(i for i, row in enumerate(rows) if row[0] == "Målgruppe")
    themes = rows[at][2::2]
    seen: set[tuple[str, str, str]] = set()
    hidden = arrows = 0
    for row in rows[at + 1 :]:
        audience, unit = row[0], row[1]
        for i, theme in enumerate(themes):
            shown, arrow = row[2 + 2 * i], row[3 + 2 * i]
            place = (audience, unit, theme)
            figure = export.get((*place, "andel_positive"))
            if figure is None:
                assert (shown, arrow) == ("ikke spurgt", "")
                continue
            seen.add(place)
            if figure["vaerdi"] == "":
                assert (shown, arrow) == (figure["status"], "")
                hidden += 1
                continue
            share = float(figure["vaerdi"].replace(",", ".")) * 100
            assert abs(_percent(shown) - share) <= 0.05 + 1e-9, (place, shown, share)
            assert arrow == _arrow(export, place), place
            arrows += arrow in {"↑", "↓"}
    assert seen == {key[:3] for key in export}  # no figure of the export is missing
    assert hidden >= 10 and arrows >= 5


def _page_texts(pdf: pdfium.PdfDocument) -> list[str]:
    return [page.get_textpage().get_text_range() for page in pdf]


def _chart_titles(opened: Opened) -> list[str]:
    themes = dict.fromkeys(row["emne"] for row in opened.export if row["type"] == "tema")
    return [f"{theme}: andel positive svar" for theme in themes]


def test_every_theme_chart_is_drawn_with_its_bars(opened: Opened) -> None:
    texts = _page_texts(opened.pdf)
    titles = _chart_titles(opened)
    assert len(titles) == 5
    for title in titles:
        number = next(n for n, text in enumerate(texts) if title in text)
        page = opened.pdf[number]
        paths = [o for o in page.get_objects(max_depth=8) if o.type == pdfium_c.FPDF_PAGEOBJ_PATH]
        assert len(paths) > 25, (title, len(paths))  # bars, error bars, axes, gridlines
        # The municipality's bar carries its share as a label ("67 %", the code "0 %").
        theme = title.removesuffix(": andel positive svar")
        share = float(
            next(
                r["vaerdi"]
                for r in opened.export
                if (r["type"], r["emne"], r["enhed"], r["indikator"])
                == ("tema", theme, "Hele kommunen", "andel_positive")
            ).replace(",", ".")
        )
        labels = {f"{int(share * 100)} %", f"{int(share * 100) + 1} %"}
        assert any(label in texts[number] for label in labels), (title, labels)


def test_each_chart_prints_whole_on_one_page(opened: Opened) -> None:
    # A chart cut by a page break is drawn on both pages, so its title is found twice.
    texts = _page_texts(opened.pdf)
    pages = [
        [n for n, text in enumerate(texts) if title in text] for title in _chart_titles(opened)
    ]
    assert all(len(found) == 1 for found in pages), pages
    assert len({found[0] for found in pages}) == len(pages)


def test_no_text_is_cut_off_or_drawn_over_other_text(opened: Opened) -> None:
    # LibreOffice keeps cut-off text in the PDF's text layer, where it lies over the cell
    # next to it; and a wrapped line in a row too low lies over the next row's line.
    # (Found here: hidden figures cut to "skjult (besk", method lines drawn over each other.)
    clashes: list[tuple[int, str, str]] = []
    for number, page in enumerate(opened.pdf):
        textpage = page.get_textpage()
        rects = [textpage.get_rect(i) for i in range(textpage.count_rects())]
        for (l1, b1, r1, t1), (l2, b2, r2, t2) in combinations(rects, 2):
            across = min(r1, r2) - max(l1, l2)
            down = min(t1, t2) - max(b1, b2)
            if across > 1 and down > 0.3 * min(t1 - b1, t2 - b2):
                clashes.append(
                    (
                        number,
                        textpage.get_text_bounded(l1, b1, r1, t1),
                        textpage.get_text_bounded(l2, b2, r2, t2),
                    )
                )
    # The first clash of each page, so a failure names every sheet it happens on.
    assert not clashes, {page: (a[:60], b[:60]) for page, a, b in reversed(clashes)}
