"""`pejling export`: XLSX, CSV and PNG files, and clear errors (once as a real process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bot.test_cli import in_process, pejling
from tests.surveys import indicator_data as data

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_export_writes_each_format_and_refuses_bad_arguments(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessions() as session:
        a = await data.unit(session, "Plejecenter A")
        b = await data.unit(session, "Plejecenter B")
        round_ = await data.round_(session, [a, b])
        await data.people(session, round_, a, 12, {"M1": 1, "V1": 2}, comment="Fin mad")
        await data.people(session, round_, b, 4, {"M1": 5, "V1": 5})
        await session.commit()
    env = {"DATABASE_URL": database_url}

    xlsx = tmp_path / "rapport.xlsx"
    run = await pejling(
        "export", "--round", str(round_.id), "--unit", "Plejecenter A", "--format", "xlsx",
        "-o", str(xlsx), env=env,
    )  # fmt: skip
    assert run.code == 0, run.err
    book = load_workbook(xlsx)
    overview = [r for r in book["Overblik"].iter_rows(values_only=True) if r[0] == "Borgere"]
    assert [r[1] for r in overview] == ["Plejecenter A", "Hele kommunen"]

    out = tmp_path / "rapport.csv"
    run = await in_process(
        "export", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv", "--comma",
        "-o", str(out), env=env,
    )  # fmt: skip
    assert run.code == 0, run.err
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("periode,runder,")
    assert "Plejecenter B,spoergsmaal,M1," in text and "for få svar" in text

    charts = tmp_path / "grafer"
    run = await in_process(
        "export", "--round", str(round_.id), "--format", "png", "-o", str(charts), env=env
    )
    assert run.code == 0, run.err
    assert sorted(p.name for p in charts.iterdir()) == [
        "tema-ensomhed.png",
        "tema-kontinuitet.png",
        "tema-mad.png",
        "tema-samlet.png",
        "tema-vaerdighed.png",
    ]

    half = await in_process(
        "export", "--from", "2026-03-01", "--format", "csv", "-o", str(out), env=env
    )
    assert half.code == 2
    assert half.err.strip() == "pejling: give --round ID, or both --from DATE and --to DATE"
    missing = await in_process(
        "export", "--round", "99", "--format", "csv", "-o", str(out), env=env
    )
    assert (missing.code, missing.err.strip()) == (2, "pejling: there is no round 99")
