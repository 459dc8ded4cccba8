"""A PNG chart per theme, readable on a phone: share positive by unit, with its interval.

Drawn with matplotlib's object API on the Agg canvas: no display, no global pyplot
state, safe in a bot process. Hidden figures get their words ("for få svar") where
the bar would be, never a zero bar.
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING

from surveys.exports import labels
from surveys.indicators import Figure, FigureKey, FigureKind, Report
from surveys.questionnaire.schema import Theme

if TYPE_CHECKING:
    from matplotlib.axes import Axes

COLOURS = ("#1f5f9e", "#e07b00")  # blue and orange: told apart by colour-blind readers too
WIDTH_INCHES = 6.0
DPI = 180  # 1080 pixels wide: a phone screen


def theme_charts(report: Report) -> list[tuple[str, bytes]]:
    """(file name, PNG bytes) for each theme in the report."""
    themes = list(dict.fromkeys(k.subject for k in report.keys_of(FigureKind.THEME)))
    return [(f"tema-{theme}.png", _theme_png(report, theme)) for theme in themes]


def _theme_png(report: Report, theme: str) -> bytes:
    from matplotlib.figure import Figure as Canvas

    audiences = [
        a for a in report.audiences if report.figure(FigureKey(a, FigureKind.THEME, theme), None)
    ]
    unit_ids: list[int | None] = [u.id for u in report.units]
    unit_ids.append(None)
    rows = len(unit_ids) * max(1, len(audiences))
    height = 2.0 + 0.42 * rows + 0.25 * len(unit_ids)
    chart = Canvas(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    axes = chart.add_subplot()
    title = labels.THEMES.get(Theme(theme), theme)
    chart.suptitle(f"{title}\nandel positive svar", fontsize=15, fontweight="bold")
    axes.set_title(textwrap.fill(labels.period_text(report), 50), fontsize=9, color="#555555")

    position = 0.0
    ticks: list[float] = []
    names: list[str] = []
    bar = 0.8 / max(1, len(audiences))
    for unit_id in unit_ids:
        top = position
        for index, audience in enumerate(audiences):
            figure = report.figure(FigureKey(audience, FigureKind.THEME, theme), unit_id)
            y = position + index * bar
            _draw(axes, y, bar, COLOURS[index % len(COLOURS)], figure)
        ticks.append(top + bar * (len(audiences) - 1) / 2)
        name = labels.unit_name(report, unit_id)
        names.append(textwrap.fill(name, 22))
        position += 1.0 + (0.4 if unit_id is None else 0.0)

    axes.set_yticks(ticks, names, fontsize=11)
    for tick, unit_id in zip(axes.get_yticklabels(), unit_ids, strict=True):
        if unit_id is None:
            tick.set_fontweight("bold")
    axes.set_ylim(position - 0.4 - (1.0 - bar * len(audiences)), -0.5)
    axes.set_xlim(0, 1.28)
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    axes.tick_params(axis="x", labelsize=10)
    axes.grid(axis="x", color="#dddddd")
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if len(audiences) > 1:
        from matplotlib.patches import Patch

        chart.legend(
            handles=[
                Patch(color=COLOURS[i % len(COLOURS)], label=labels.AUDIENCES[a])
                for i, a in enumerate(audiences)
            ],
            loc="outside lower center",
            ncols=len(audiences),
            fontsize=11,
            frameon=False,
        )
    axes.set_xlabel("Streg: 95 % interval. Tal på færre end 5 svar vises ikke.", fontsize=9)
    buffer = io.BytesIO()
    chart.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw(axes: Axes, y: float, height: float, colour: str, figure: Figure | None) -> None:
    if figure is None:
        axes.text(0.01, y, "ikke spurgt", va="center", fontsize=10, color="#7f7f7f")
        return
    v = figure.values
    if v is None or v.share is None:
        axes.text(
            0.01,
            y,
            labels.suppressed_text(figure),
            va="center",
            fontsize=10,
            style="italic",
            color="#7f7f7f",
        )
        return
    share = v.share
    axes.barh(y, share.p, height=height * 0.9, color=colour)
    axes.errorbar(
        share.p,
        y,
        xerr=[[share.p - share.interval.low], [share.interval.high - share.p]],
        fmt="none",
        ecolor="#333333",
        elinewidth=1,
        capsize=3,
    )
    text = labels.percent(share.p)
    if figure.change is not None:
        text += " " + labels.arrow(figure.change)
    axes.text(share.interval.high + 0.02, y, text, va="center", fontsize=11)
