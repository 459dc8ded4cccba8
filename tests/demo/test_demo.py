"""The demo: its figures match the answers it simulated, recomputed here independently, and
the people without Telegram answered on the web pages, as the database and the printed
figures by channel say."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from demo.run import DemoResult, run_demo
from storage.db import create_engine
from storage.enums import Audience, Channel
from storage.models import Answer, Delivery, DeliveryStatus
from surveys.exports.labels import percent
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
    # A place is a unit, audience, item and channel ("" for all channels).
    valid: Counter[tuple[str, str, str, str]] = Counter()
    top2: Counter[tuple[str, str, str, str]] = Counter()
    dont_know: Counter[tuple[str, str, str, str]] = Counter()
    for row in rows:
        for channel in ("", row["kanal"]):
            place = (row["enhed"], row["målgruppe"], row["spørgsmål"], channel)
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
    channels_checked: Counter[str] = Counter()
    for (key, unit_id), figure in report.figures.items():
        if key.kind != FigureKind.ITEM or unit_id is None or figure.values is None:
            continue
        channel = "" if key.channel is None else key.channel.value
        counted = (names[unit_id], key.audience.value, key.subject, channel)
        channels_checked[channel] += 1
        assert figure.values.n == valid[counted]
        assert figure.values.dont_know == dont_know[counted]
        if figure.values.share is not None:
            assert abs(figure.values.share.p - top2[counted] / valid[counted]) < 1e-9
            checked += 1
    assert checked > 20
    # The figures split by channel are checked too, against the log's channel column.
    assert channels_checked[Channel.TELEGRAM.value] > 0 and channels_checked[Channel.WEB.value] > 0

    small = next(u.id for u in report.units if u.name == "Plejecenter Lillebo")
    response = report.figure(FigureKey(Audience.RELATIVE, FigureKind.RESPONSE), small)
    assert response is not None and response.suppression == Suppression.FEW_INVITED
    assert "for få svar" in console.file.getvalue()  # type: ignore[attr-defined]
    exported = (tmp_path / "pejling-demo.csv").read_text(encoding="utf-8-sig")
    assert "Plejecenter Lillebo" in exported and "for få svar" in exported
    assert (tmp_path / "pejling-demo.xlsx").stat().st_size > 10_000
    assert sorted(p.name for p in (tmp_path / "grafer").glob("*.png"))
    await _the_web_people_answered_on_the_web_pages(tmp_path, result, console)


async def _the_web_people_answered_on_the_web_pages(
    tmp_path: Path, result: DemoResult, console: Console
) -> None:
    """One demo run is slow enough: the same run's answers by channel, checked here."""
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    channels = result.channels
    assert channels is not None

    # What the simulated people say they gave, by channel, against the database.
    log = (tmp_path / "simulerede-svar.csv").read_text(encoding="utf-8")
    given = Counter(row["kanal"] for row in csv.DictReader(io.StringIO(log), delimiter=";"))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    try:
        async with engine.connect() as connection:
            stored = dict(
                (
                    await connection.execute(
                        select(Answer.channel, func.count()).group_by(Answer.channel)
                    )
                ).all()
            )
            completed = dict(
                (
                    await connection.execute(
                        select(Delivery.channel, func.count())
                        .where(Delivery.status == DeliveryStatus.COMPLETED)
                        .group_by(Delivery.channel)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert given[Channel.WEB] > 50 and given[Channel.TELEGRAM] > 50
    assert stored == dict(given) == channels.answers
    assert completed == channels.completed
    assert completed[Channel.WEB] > 5 and completed[Channel.TELEGRAM] > 5
    assert result.finished == sum(completed.values())
    assert 0 < result.web_people < result.invited
    assert result.went_back > 0  # Back on a web page, and the answer given again replaced

    share = completed[Channel.WEB] / sum(completed.values())
    assert abs(channels.web_share - share) < 1e-12
    assert (
        f"Andel der svarede færdigt på web: {percent(share)} "
        f"({completed[Channel.WEB]} af {sum(completed.values())})"
    ) in printed
    for name, channel in (("Telegram", Channel.TELEGRAM), ("Web", Channel.WEB)):
        cells = next(line for line in printed.splitlines() if line.startswith(f"│ {name} "))
        numbers = [cell.strip() for cell in cells.strip("│").split("│")[1:]]
        assert numbers == [str(completed[channel]), str(stored[channel])]
