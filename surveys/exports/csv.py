"""The report as a tidy CSV: one row per indicator, with all its dimensions.

For R, Power BI and Excel pivot tables. UTF-8 with a BOM (so Excel reads æøå);
by default semicolons and decimal commas, as Danish Excel expects; ``comma=True``
gives commas and decimal points, as R and most tools expect. A hidden figure keeps
its rows with an empty value and says why in ``status`` ("for få svar"): the value
column stays numeric for the tools. ``kanal`` (the last column, so tools that read the
columns by place keep working) is "alle" for the figures over all channels and, when
people answered by both, "telegram" or "web" for the same figures over one channel's
answers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TextIO

from surveys.exports import labels
from surveys.indicators import Figure, FigureKey, FigureKind, Report, Values

COLUMNS = (
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
)
KIND_NAMES = {
    FigureKind.THEME: "tema",
    FigureKind.ITEM: "spoergsmaal",
    FigureKind.TILS: "ensomhed",
    FigureKind.NEGATIVE: "ensomhed",
    FigureKind.RESPONSE: "svarprocent",
}
BOM = "\ufeff"

Number = int | float | bool | None


def _number(value: Number, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", decimal)


def _measures(
    report: Report, key: FigureKey, v: Values | None
) -> Iterator[tuple[str, str, Number]]:
    """(indicator, option label, value) of one figure; values None when it is hidden."""

    def get(attribute: str) -> Number:
        return None if v is None else getattr(v, attribute)

    share = None if v is None else v.share
    if key.kind == FigureKind.RESPONSE and key.channel is not None:
        # No rate of its own: a person is invited once and may answer by either channel.
        yield "gennemfoerte", "", get("completed")
        yield "andel_af_gennemfoerte", "", None if share is None else share.p
        yield "hjaelp", "", get("proxy")
        return
    if key.kind == FigureKind.RESPONSE:
        yield "inviterede", "", get("n")
        yield "gennemfoerte", "", get("completed")
        yield "svarprocent", "", None if share is None else share.p
        yield "delvise", "", get("partial")
        yield "hjaelp", "", get("proxy")
        return
    yield "n", "", get("n")
    yield "ved_ikke", "", get("dont_know")
    yield "spring_over", "", get("skipped")
    yield "hjaelp", "", get("proxy")
    ordinal = key.kind != FigureKind.ITEM or report.survey.scale_of(key.subject).ordinal
    if ordinal:
        name = "andel_positive" if key.kind in (FigureKind.ITEM, FigureKind.THEME) else "andel"
        yield name, "", None if share is None else share.p
        yield f"{name}_nedre", "", None if share is None else share.interval.low
        yield f"{name}_oevre", "", None if share is None else share.interval.high
    if key.kind in (FigureKind.ITEM, FigureKind.THEME) and ordinal:
        yield "topboks", "", get("top_box")
        yield "indeks", "", get("index")
    if key.kind == FigureKind.TILS:
        yield "gennemsnit_sum", "", get("mean")
    if key.kind == FigureKind.ITEM:
        options = report.survey.scale_of(key.subject).options
        for position, option in enumerate(options):
            shares = () if v is None else v.option_shares
            yield "andel_svar", option, shares[position] if position < len(shares) else None


def rows(report: Report, *, decimal: str = ",") -> Iterator[list[str]]:
    """The header and one row per indicator, as strings, lazily."""
    yield list(COLUMNS)
    rounds = " ".join(str(r) for r in report.selection.round_ids)
    unit_ids: list[int | None] = [u.id for u in report.units]
    unit_ids.append(None)
    for key in report.keys:
        for channel in (None, *report.channels):
            for unit_id in unit_ids:
                figure = report.figure(key.in_channel(channel), unit_id)
                if figure is None:
                    continue
                yield from _figure_rows(report, figure, rounds, decimal)


def _figure_rows(report: Report, figure: Figure, rounds: str, decimal: str) -> Iterator[list[str]]:
    key = figure.key
    status = "" if figure.shown else labels.suppressed_text(figure)
    head = [
        report.selection.label,
        rounds,
        report.survey.id,
        str(report.survey.version),
        labels.AUDIENCES[key.audience],
        "" if figure.unit_id is None else str(figure.unit_id),
        labels.unit_name(report, figure.unit_id),
        KIND_NAMES[key.kind],
        key.subject or key.kind.value,
        labels.subject_label(report, key),
    ]
    way = labels.direction(key) if key.kind != FigureKind.RESPONSE else ""
    channel = labels.channel_code(key.channel)
    for indicator, option, value in _measures(report, key, figure.values):
        yield [*head, indicator, option, _number(value, decimal), way, status, channel]
    change = figure.change
    if change is not None:
        interval = change.difference.interval
        for indicator, number in (
            ("aendring", change.difference.estimate),
            ("aendring_nedre", interval.low),
            ("aendring_oevre", interval.high),
            ("aendring_signifikant", change.significant),
        ):
            yield [*head, indicator, "", _number(number, decimal), way, status, channel]


def write_csv(report: Report, out: TextIO, *, comma: bool = False) -> None:
    """Write the report to a text stream, row by row (the caller opens it as UTF-8)."""
    out.write(BOM)
    writer = csv.writer(out, delimiter="," if comma else ";", lineterminator="\r\n")
    for row in rows(report, decimal="." if comma else ","):
        writer.writerow(row)


def csv_bytes(report: Report, *, comma: bool = False) -> bytes:
    """The CSV file's bytes (UTF-8 with BOM)."""
    buffer = io.StringIO()
    write_csv(report, buffer, comma=comma)
    return buffer.getvalue().encode("utf-8")
