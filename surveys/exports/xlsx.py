"""The report as an Excel workbook for coordinators (XlsxWriter).

One sheet per view: overview (theme x unit, traffic colours, trend arrows), themes,
questions, loneliness, response rates, comments, and the method in plain Danish; native
Excel charts of each theme by unit. Header rows are frozen and columns sized.

Numbers are stored as numbers, so they can be sorted and summed. Excel keeps number
formats in a locale-neutral code and shows them in the reader's own convention, so
Danish Excel shows "72,5 %" and "1.234" for the codes used here ("0.0 %" with the space
Danish writing puts before %, "#,##0"). Written in constant-memory mode: rows go to disk
as they are written, so memory does not grow with the size of the report.
"""

from __future__ import annotations

import math
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlsxwriter import Workbook  # type: ignore[import-untyped]
from xlsxwriter.format import Format  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from surveys.exports import labels
from surveys.exports.method import method_lines
from surveys.indicators import Figure, FigureKey, FigureKind, Report, Share
from surveys.questionnaire.schema import Theme

PERCENT = "0.0 %"
INDEX = "0.0"
COUNT = "#,##0"
POINTS = "+0.0;-0.0;0.0"

# Row heights in points. Neither Excel nor LibreOffice grows a row for wrapped text it
# reads from a file, so rows that wrap get their height here: lines x the height of one
# line of 11 pt text.
LINE_HEIGHT = 15.0
# A4 landscape (595 pt high) less XlsxWriter's default top and bottom margins (0.75 in).
PRINTABLE_HEIGHT = 595 - 2 * 54
PIXELS_PER_POINT = 96 / 72


@dataclass
class _Formats:
    title: Format
    note: Format
    header: Format
    text: Format
    bold: Format
    percent: Format
    index: Format
    count: Format
    points: Format
    hidden: Format
    worse: Format
    green: Format
    yellow: Format
    red: Format
    up: Format
    down: Format
    flat: Format
    wrap: Format


def _formats(book: Workbook) -> _Formats:
    def fmt(**options: Any) -> Format:
        return book.add_format({"font_name": "Calibri", "font_size": 11, **options})

    def traffic(fill: str, font: str) -> Format:
        return fmt(num_format=PERCENT, bg_color=fill, font_color=font)

    return _Formats(
        title=fmt(bold=True, font_size=14),
        note=fmt(italic=True, font_color="#555555"),
        header=fmt(bold=True, bg_color="#DDEBF7", bottom=1, text_wrap=True, valign="top"),
        text=fmt(),
        bold=fmt(bold=True),
        percent=fmt(num_format=PERCENT),
        index=fmt(num_format=INDEX),
        count=fmt(num_format=COUNT),
        points=fmt(num_format=POINTS),
        hidden=fmt(italic=True, font_color="#7F7F7F"),
        worse=fmt(font_color="#9C0006", italic=True),
        green=traffic("#C6EFCE", "#006100"),
        yellow=traffic("#FFEB9C", "#9C5700"),
        red=traffic("#FFC7CE", "#9C0006"),
        up=fmt(font_color="#006100", bold=True, align="center"),
        down=fmt(font_color="#9C0006", bold=True, align="center"),
        flat=fmt(font_color="#7F7F7F", align="center"),
        wrap=fmt(text_wrap=True, valign="top"),
    )


def _units(report: Report) -> list[int | None]:
    ids: list[int | None] = [u.id for u in report.units]
    ids.append(None)
    return ids


class _Sheet:
    """A worksheet written strictly row by row (constant-memory mode needs that)."""

    def __init__(self, sheet: Worksheet, f: _Formats) -> None:
        self.sheet = sheet
        self.f = f
        self.row = 0
        self.widths: dict[int, float] = {}
        # Coordinators print these: landscape, as wide as one page, header on every page.
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)

    def width(self, column: int, width: float) -> None:
        """Set a column's width (in characters), remembered for the rows that wrap."""
        self.sheet.set_column(column, column, width)
        self.widths[column] = width

    def line(self, text: str, fmt: Format | None = None) -> None:
        self.cells([(text, fmt or self.f.text)])

    def begin(self, title: str, note: str, columns: Sequence[tuple[str, float]]) -> None:
        """A table's title, its explanation, a blank row and the header."""
        self.line(title, self.f.title)
        self.line(note, self.f.note)
        self.row += 1
        self.header([name for name, _ in columns], [width for _, width in columns])

    def header(self, names: Sequence[str], widths: Sequence[float]) -> None:
        for column, width in enumerate(widths):
            self.width(column, width)
        # At least two lines of room, so a long theme name wraps instead of covering the
        # first row.
        lines = max(2, *(_lines(name, width) for name, width in zip(names, widths, strict=True)))
        self.sheet.set_row(self.row, LINE_HEIGHT * lines)
        for column, name in enumerate(names):
            self.sheet.write_string(self.row, column, name, self.f.header)
        self.row += 1
        self.sheet.freeze_panes(self.row, 0)

    def cells(self, values: Sequence[tuple[Any, Format | None]]) -> None:
        lines = max(
            (
                _lines(value, self.widths.get(column, 8.43))
                for column, (value, fmt) in enumerate(values)
                if isinstance(value, str) and fmt is not None and fmt.text_wrap
            ),
            default=1,
        )
        if lines > 1:
            self.sheet.set_row(self.row, LINE_HEIGHT * lines)
        for column, (value, fmt) in enumerate(values):
            if value is None:
                continue
            if isinstance(value, bool):
                self.sheet.write_string(self.row, column, "ja" if value else "nej", fmt)
            elif isinstance(value, int | float):
                self.sheet.write_number(self.row, column, value, fmt)
            else:
                self.sheet.write_string(self.row, column, str(value), fmt)
        self.row += 1


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide.

    A column's width counts the digit "0" of the default font; a word of Danish text is
    narrower on average, so counting one character per unit errs on the roomy side.
    """
    wrapped = textwrap.wrap(
        text, max(1, math.floor(width)), break_long_words=False, break_on_hyphens=False
    )
    return max(1, len(wrapped))


def _figures(
    report: Report, keys: Sequence[FigureKey]
) -> Iterator[tuple[FigureKey, int | None, Figure]]:
    """Each figure of ``keys``, unit by unit and then the municipality."""
    for key in keys:
        for unit_id in _units(report):
            figure = report.figure(key, unit_id)
            if figure is not None:
                yield key, unit_id, figure


def _change_cells(figure: Figure, f: _Formats) -> list[tuple[Any, Format | None]]:
    change = figure.change
    if change is None:
        return [("–", f.flat)] * 4
    interval = change.difference.interval
    better = change.better(figure.key.higher_is_worse)
    verdict = "nej" if better is None else ("ja, bedre" if better else "ja, værre")
    return [
        (change.difference.estimate * 100, f.points),
        (interval.low * 100, f.points),
        (interval.high * 100, f.points),
        (verdict, f.up if better else f.down if better is False else f.flat),
    ]


def _hidden_row(
    head: list[tuple[Any, Format | None]], figure: Figure, f: _Formats
) -> list[tuple[Any, Format | None]]:
    """The row of a hidden figure: why it is hidden, said once after its labels.

    Once, and the cells after it left empty, so the words run on over the empty cells and
    can be read; repeated in every narrow number column they were cut to "skjult (besk".
    """
    return [*head, (labels.suppressed_text(figure), f.hidden)]


# ------------------------------------------------------------------ the sheets


def _overview(sheet: _Sheet, report: Report) -> None:
    f = sheet.f
    sheet.line(f"Brugeroplevet kvalitet: {labels.period_text(report)}", f.title)
    sheet.line(
        "Andel positive svar (de to bedste svarmuligheder) pr. tema. Farver: grøn "
        f"{labels.percent(labels.GREEN_FROM)} eller mere, gul "
        f"{labels.percent(labels.YELLOW_FROM)} eller mere, ellers rød. Pil: ↑ sikker "
        "stigning, ↓ sikkert fald, → ingen sikker ændring siden sidst.",
        f.note,
    )
    sheet.row += 1
    themes = _themes_in(report)
    names = ["Målgruppe", "Enhed"]
    widths: list[float] = [12, 30]
    for theme in themes:
        names += [_theme_name(theme), ""]
        widths += [16, 3]
    sheet.header(names, widths)
    sheet.sheet.freeze_panes(sheet.row, 2)
    for audience in report.audiences:
        for unit_id in _units(report):
            if not any(
                report.figure(FigureKey(audience, FigureKind.THEME, theme), unit_id)
                for theme in themes
            ):
                continue
            row: list[tuple[Any, Format | None]] = [
                (labels.AUDIENCES[audience], f.text),
                (labels.unit_name(report, unit_id), f.bold if unit_id is None else f.text),
            ]
            for theme in themes:
                figure = report.figure(FigureKey(audience, FigureKind.THEME, theme), unit_id)
                if figure is None:
                    row += [("ikke spurgt", f.hidden), (None, None)]
                elif figure.values is None or figure.values.share is None:
                    row += [(labels.suppressed_text(figure), f.hidden), (None, None)]
                else:
                    p = figure.values.share.p
                    colour = (
                        f.green
                        if p >= labels.GREEN_FROM
                        else f.yellow
                        if p >= labels.YELLOW_FROM
                        else f.red
                    )
                    arrow = labels.arrow(figure.change)
                    better = figure.change.better(False) if figure.change else None
                    row += [(p, colour), (arrow or None, _arrow_format(better, f))]
            sheet.cells(row)


def _arrow_format(better: bool | None, f: _Formats) -> Format:
    return f.up if better else f.down if better is False else f.flat


def _themes_in(report: Report) -> list[str]:
    return list(dict.fromkeys(k.subject for k in report.keys_of(FigureKind.THEME)))


def _theme_name(value: str) -> str:
    return labels.THEMES.get(Theme(value), value)


THEME_COLUMNS = (
    ("Målgruppe", 12),
    ("Enhed", 28),
    ("Tema", 26),
    ("Personer (n)", 10),
    ("Ved ikke (svar)", 10),
    ("Andel positive", 11),
    ("95 % interval, nedre", 11),
    ("95 % interval, øvre", 11),
    ("Topboks", 10),
    ("Indeks 0-100", 10),
    ("Med hjælp (personer)", 11),
    ("Ændring (pct.-point)", 11),
    ("Ændring, nedre", 10),
    ("Ændring, øvre", 10),
    ("Sikker ændring", 12),
)


def _where(
    report: Report, key: FigureKey, unit_id: int | None, f: _Formats
) -> list[tuple[Any, Format | None]]:
    """A row's first cells: the audience, and the unit (the municipality's line in bold)."""
    return [
        (labels.AUDIENCES[key.audience], f.text),
        (labels.unit_name(report, unit_id), f.bold if unit_id is None else f.text),
    ]


def _share_cells(share: Share, f: _Formats) -> list[tuple[Any, Format | None]]:
    """A share and its 95 % interval."""
    return [
        (share.p, f.percent),
        (share.interval.low, f.percent),
        (share.interval.high, f.percent),
    ]


def _themes(sheet: _Sheet, report: Report) -> None:
    f = sheet.f
    sheet.begin(
        "Temaer: hver persons gennemsnit over temaets spørgsmål",
        "En person tæller med, når de har svaret på mindst halvdelen af temaets "
        "spørgsmål. Alle tal her: højere er bedre.",
        THEME_COLUMNS,
    )
    for key, unit_id, figure in _figures(report, report.keys_of(FigureKind.THEME)):
        head: list[tuple[Any, Format | None]] = [
            *_where(report, key, unit_id, f),
            (labels.subject_label(report, key), f.text),
        ]
        v = figure.values
        if v is None or v.share is None:
            sheet.cells(_hidden_row(head, figure, f))
            continue
        sheet.cells(
            [
                *head,
                (v.n, f.count),
                (v.dont_know, f.count),
                *_share_cells(v.share, f),
                (v.top_box, f.percent),
                (v.index, f.index),
                (v.proxy, f.count),
                *_change_cells(figure, f),
            ]
        )


ITEM_COLUMNS = (
    ("Målgruppe", 12),
    ("Enhed", 28),
    ("Spørgsmål", 50),
    ("Tema", 16),
    ("Svar (n)", 9),
    ("Ved ikke", 9),
    ("Spring over", 9),
    ("Andel positive", 11),
    ("95 % interval, nedre", 11),
    ("95 % interval, øvre", 11),
    ("Topboks", 10),
    ("Indeks 0-100", 10),
    ("Med hjælp (svar)", 10),
    ("Ændring (pct.-point)", 11),
    ("Ændring, nedre", 10),
    ("Ændring, øvre", 10),
    ("Sikker ændring", 12),
    ("Fordeling på svarmuligheder", 70),
)


def _items(sheet: _Sheet, report: Report) -> None:
    f = sheet.f
    sheet.begin(
        "Spørgsmål: ét spørgsmål ad gangen",
        "Andel positive = de to bedste svarmuligheder; topboks = den bedste. «Ved ikke» og "
        "«Spring over» tæller ikke med i n.",
        ITEM_COLUMNS,
    )
    for key in report.keys_of(FigureKind.ITEM):
        item = report.survey.item(key.subject)
        scale = report.survey.scale_of(item)
        for unit_id in _units(report):
            figure = report.figure(key, unit_id)
            if figure is None:
                continue
            head: list[tuple[Any, Format | None]] = [
                *_where(report, key, unit_id, f),
                (labels.subject_label(report, key), f.text),
                (labels.THEMES.get(item.theme, item.theme.value), f.text),
            ]
            v = figure.values
            if v is None:
                sheet.cells(_hidden_row(head, figure, f))
                continue
            distribution = "; ".join(
                f"{option} {labels.percent(share)}"
                for option, share in zip(scale.options, v.option_shares, strict=False)
            )
            if v.share is None:
                shares: list[tuple[Any, Format | None]] = [("–", f.flat)] * 5
                change = [("–", f.flat)] * 4
            else:
                shares = [
                    *_share_cells(v.share, f),
                    (v.top_box, f.percent),
                    (v.index, f.index),
                ]
                change = _change_cells(figure, f)
            sheet.cells(
                [
                    *head,
                    (v.n, f.count),
                    (v.dont_know, f.count),
                    (v.skipped, f.count),
                    *shares,
                    (v.proxy, f.count),
                    *change,
                    (distribution, f.text),
                ]
            )


LONELY_COLUMNS = (
    ("Målgruppe", 12),
    ("Enhed", 28),
    ("Indikator", 40),
    ("Retning", 16),
    ("Svar (n)", 9),
    ("Andel", 10),
    ("95 % interval, nedre", 11),
    ("95 % interval, øvre", 11),
    ("Gns. T-ILS sum (3-9)", 11),
    ("Med hjælp", 10),
    ("Ændring (pct.-point)", 11),
    ("Ændring, nedre", 10),
    ("Ændring, øvre", 10),
    ("Sikker ændring", 12),
)


def _loneliness(sheet: _Sheet, report: Report) -> None:
    f = sheet.f
    sheet.begin(
        "Ensomhed: HØJERE ER VÆRRE",
        "Andelen med svær ensomhed (T-ILS sum 7 eller mere, kun personer der har svaret "
        "på alle tre spørgsmål) og andelen der svarer «Ja, ofte» til E1. Her betyder en "
        "højere andel, at flere er ensomme.",
        LONELY_COLUMNS,
    )
    keys = report.keys_of(FigureKind.TILS) + report.keys_of(FigureKind.NEGATIVE)
    for key in sorted(keys, key=lambda k: report.keys.index(k)):
        for unit_id in _units(report):
            figure = report.figure(key, unit_id)
            if figure is None:
                continue
            head: list[tuple[Any, Format | None]] = [
                *_where(report, key, unit_id, f),
                (labels.subject_label(report, key), f.text),
                (labels.HIGHER_IS_WORSE, f.worse),
            ]
            v = figure.values
            if v is None or v.share is None:
                sheet.cells(_hidden_row(head, figure, f))
                continue
            sheet.cells(
                [
                    *head,
                    (v.n, f.count),
                    *_share_cells(v.share, f),
                    (v.mean if v.mean is not None else "–", f.index),
                    (v.proxy, f.count),
                    *_change_cells(figure, f),
                ]
            )


RESPONSE_COLUMNS = (
    ("Målgruppe", 12),
    ("Enhed", 28),
    ("Inviterede", 10),
    ("Gennemførte", 11),
    ("Svarprocent", 11),
    ("Delvise (afbrudt)", 11),
    ("Delvise i %", 10),
    ("Gennemført med hjælp", 12),
)


def _responses(sheet: _Sheet, report: Report) -> None:
    f = sheet.f
    sheet.begin(
        "Svarprocent (AAPOR RR1): gennemførte / alle inviterede",
        "Inviterede tæller alle, der fik en invitation, også dem der har trukket sig eller "
        "ikke kunne nås. Delvise har svaret på noget, men ikke gjort skemaet færdigt.",
        RESPONSE_COLUMNS,
    )
    for key, unit_id, figure in _figures(report, report.keys_of(FigureKind.RESPONSE)):
        head: list[tuple[Any, Format | None]] = [
            *_where(report, key, unit_id, f),
        ]
        v = figure.values
        if v is None:
            sheet.cells(_hidden_row(head, figure, f))
            continue
        sheet.cells(
            [
                *head,
                (v.n, f.count),
                (v.completed, f.count),
                (v.completed / v.n if v.n else 0.0, f.percent),
                (v.partial, f.count),
                (v.partial / v.n if v.n else 0.0, f.percent),
                (v.proxy, f.count),
            ]
        )


CHANNEL_COLUMNS = (
    ("Målgruppe", 12),
    ("Enhed", 28),
    ("Kanal", 11),
    ("Gennemførte", 11),
    ("Andel af alle gennemførte", 12),
    ("Gennemført med hjælp", 12),
)


def _responses_by_channel(sheet: _Sheet, report: Report) -> None:
    """A line per channel under the response rates: completed by it, and their share of
    all completed (a channel has no rate of its own: a person is invited once)."""
    f = sheet.f
    if not report.channels:  # one channel: its lines would repeat the ones above
        return
    sheet.row += 1
    sheet.line("Gennemførte pr. kanal", f.title)
    sheet.line(
        "En person inviteres én gang og kan svare via Telegram eller på nettet, så en kanal "
        "har ingen svarprocent for sig selv. Her står, hvor mange der gennemførte via hver "
        "kanal (den kanal, skemaet blev gjort færdigt i), og deres andel af alle gennemførte.",
        f.note,
    )
    sheet.row += 1
    sheet.header([name for name, _ in CHANNEL_COLUMNS], [width for _, width in CHANNEL_COLUMNS])
    for key in report.keys_of(FigureKind.RESPONSE):
        for unit_id in _units(report):
            for channel in report.channels:
                figure = report.figure(key.in_channel(channel), unit_id)
                if figure is None:
                    continue
                head: list[tuple[Any, Format | None]] = [
                    *_where(report, key, unit_id, f),
                    (labels.CHANNELS[channel], f.text),
                ]
                v = figure.values
                if v is None:
                    sheet.cells(_hidden_row(head, figure, f))
                    continue
                sheet.cells(
                    [
                        *head,
                        (v.completed, f.count),
                        (v.share.p if v.share is not None else 0.0, f.percent),
                        (v.proxy, f.count),
                    ]
                )


def _comments(sheet: _Sheet, report: Report) -> None:
    f = sheet.f
    sheet.line("Kommentarer", f.title)
    sheet.line(
        "Kun fra enheder med mindst 10 gennemførte besvarelser i målgruppen. Uden navne "
        "og datoer, sorteret efter tekst.",
        f.note,
    )
    sheet.row += 1
    sheet.header(["Enhed", "Målgruppe", "Kommentar"], [28, 12, 100])
    if not report.comments_included:
        sheet.line("Kommentarer vises kun for kvalitetskoordinatorer.", f.hidden)
        return
    if report.purged_rounds:
        sheet.line(
            "Kommentarerne fra runder ældre end opbevaringsperioden er slettet sammen med "
            "svarene; kun tallene for hele enheder er tilbage.",
            f.hidden,
        )
    if not report.comments:
        if not report.purged_rounds:
            sheet.line("Ingen kommentarer, der kan vises.", f.hidden)
        return
    for comment in report.comments:
        sheet.cells(
            [
                (labels.unit_name(report, comment.unit_id), f.wrap),
                (labels.AUDIENCES[comment.audience], f.wrap),
                (comment.text, f.wrap),
            ]
        )


def _method(sheet: _Sheet, report: Report) -> None:
    f = sheet.f
    sheet.width(0, 110)
    for heading, text in method_lines(report):
        if heading:
            sheet.line(text, f.title if sheet.row == 0 else f.bold)
        else:
            sheet.line(text, f.wrap)


def _charts(book: Workbook, data: _Sheet, charts: Worksheet, report: Report) -> None:
    """A bar chart per theme: share positive by unit, one series per audience.

    Printed one chart to a landscape A4 page, scaled down when a chart is taller than a
    page, so that no chart is cut in two across pages.
    """
    f = data.f
    data.header(["Enhed", "Andel positive", "Minus", "Plus"], [34, 12, 10, 10])
    height = 120 + 28 * (len(report.units) + 1) * 2  # pixels
    place = 1
    breaks: list[int] = []
    for theme in _themes_in(report):
        title = _theme_name(theme)
        chart = book.add_chart({"type": "bar"})
        assert chart is not None
        for audience in report.audiences:
            key = FigureKey(audience, FigureKind.THEME, theme)
            rows = [
                (unit_id, report.figure(key, unit_id))
                for unit_id in _units(report)
                if report.figure(key, unit_id) is not None
            ]
            if not rows:
                continue
            first = data.row
            for unit_id, figure in rows:
                assert figure is not None
                name = labels.unit_name(report, unit_id)
                v = figure.values
                if v is None or v.share is None:
                    # A gap, not a zero bar: Excel draws nothing for an empty cell.
                    data.cells([(f"{name} ({labels.suppressed_text(figure)})", f.text)])
                    continue
                data.cells(
                    [
                        (name, f.text),
                        (v.share.p, f.percent),
                        (v.share.p - v.share.interval.low, f.percent),
                        (v.share.interval.high - v.share.p, f.percent),
                    ]
                )
            last = data.row - 1
            sheet_name = "Grafdata"
            chart.add_series(
                {
                    "name": labels.AUDIENCES[audience],
                    "categories": [sheet_name, first, 0, last, 0],
                    "values": [sheet_name, first, 1, last, 1],
                    "y_error_bars": {
                        "type": "custom",
                        "plus_values": f"='{sheet_name}'!$D${first + 1}:$D${last + 1}",
                        "minus_values": f"='{sheet_name}'!$C${first + 1}:$C${last + 1}",
                    },
                    "data_labels": {"value": True, "num_format": "0 %"},
                }
            )
        chart.set_title({"name": f"{title}: andel positive svar"})
        chart.set_x_axis(
            {"min": 0, "max": 1, "num_format": "0 %", "major_gridlines": {"visible": True}}
        )
        chart.set_y_axis({"reverse": True})
        chart.set_legend({"position": "top"})
        chart.set_size({"width": 760, "height": height})
        charts.insert_chart(place, 1, chart)
        if place > 1:
            # The page starts a row above the chart: a chart starting right on the break
            # also leaves its top edge at the foot of the page before.
            breaks.append(place - 1)
        place += 8 + 3 * (len(report.units) + 1)
    charts.set_landscape()
    charts.set_paper(9)  # A4
    charts.set_h_pagebreaks(breaks)
    # "Fit to page" would make Excel ignore the page breaks; a fixed scale keeps them.
    tallest = height / PIXELS_PER_POINT + 2 * LINE_HEIGHT
    charts.set_print_scale(max(10, min(100, math.floor(100 * PRINTABLE_HEIGHT / tallest))))


def xlsx_bytes(report: Report) -> bytes:
    """The workbook's bytes (written through a temporary file, as constant memory needs)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.xlsx"
        write_xlsx(report, path)
        return path.read_bytes()


def write_xlsx(report: Report, path: str | Path) -> None:
    """Write the workbook to ``path``."""
    book = Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    try:
        f = _formats(book)
        sheets = {
            name: _Sheet(book.add_worksheet(name), f)
            for name in (
                "Overblik",
                "Temaer",
                "Spørgsmål",
                "Ensomhed",
                "Svarprocent",
                "Kommentarer",
                "Metode",
            )
        }
        charts = book.add_worksheet("Grafer")
        data = _Sheet(book.add_worksheet("Grafdata"), f)
        _overview(sheets["Overblik"], report)
        _themes(sheets["Temaer"], report)
        _items(sheets["Spørgsmål"], report)
        _loneliness(sheets["Ensomhed"], report)
        _responses(sheets["Svarprocent"], report)
        _responses_by_channel(sheets["Svarprocent"], report)
        _comments(sheets["Kommentarer"], report)
        _method(sheets["Metode"], report)
        charts.write_string(0, 1, "Andel positive svar pr. tema og enhed (95 % interval)", f.title)
        _charts(book, data, charts, report)
    finally:
        book.close()
