"""The demo: its figures match the answers it simulated, recomputed here independently."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from rich.console import Console

from demo.run import run_demo
from storage.enums import Audience
from surveys.indicators import FigureKey, FigureKind, Suppression


async def test_the_demo_reports_what_its_people_answered(tmp_path: Path) -> None:
    console = Console(file=io.StringIO(), width=160)
    result = await run_demo(tmp_path, seed=7, size=0.3, console=console)
    report = result.report
    assert report is not None
    survey = report.survey

    # Recompute n, "Ved ikke" and the top-2 share per unit, audience and item from the raw
    # log the simulated people wrote, with no Pejling code but the survey's scales.
    log = (tmp_path / "simulerede-svar.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(log), delimiter=";"))
    assert len(rows) == len(result.answers) > 500
    valid: Counter[tuple[str, str, str]] = Counter()
    top2: Counter[tuple[str, str, str]] = Counter()
    dont_know: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        place = (row["enhed"], row["målgruppe"], row["spørgsmål"])
        if row["art"] == "dont_know":
            dont_know[place] += 1
        if row["art"] != "value":
            continue
        scale = survey.scale_of(row["spørgsmål"])
        position, size = int(row["værdi"]), len(scale.options)
        valid[place] += 1
        best_two = {1, 2} if scale.best == "first" else {size - 1, size}
        top2[place] += position in best_two

    names = {unit.id: unit.name for unit in report.units}
    checked = 0
    for (key, unit_id), figure in report.figures.items():
        if key.kind != FigureKind.ITEM or unit_id is None or figure.values is None:
            continue
        counted = (names[unit_id], key.audience.value, key.subject)
        assert figure.values.n == valid[counted]
        assert figure.values.dont_know == dont_know[counted]
        if figure.values.share is not None:
            assert abs(figure.values.share.p - top2[counted] / valid[counted]) < 1e-9
            checked += 1
    assert checked > 20

    small = next(u.id for u in report.units if u.name == "Plejecenter Lillebo")
    response = report.figure(FigureKey(Audience.RELATIVE, FigureKind.RESPONSE), small)
    assert response is not None and response.suppression == Suppression.FEW_INVITED
    assert "for få svar" in console.file.getvalue()  # type: ignore[attr-defined]
    exported = (tmp_path / "pejling-demo.csv").read_text(encoding="utf-8-sig")
    assert "Plejecenter Lillebo" in exported and "for få svar" in exported
    assert (tmp_path / "pejling-demo.xlsx").stat().st_size > 10_000
    assert sorted(p.name for p in (tmp_path / "grafer").glob("*.png"))
