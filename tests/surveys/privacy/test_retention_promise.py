"""Retention as promised: past RETENTION_MONTHS after a round closed its answers,
comments and deliveries are gone, and its export is the same to the last byte (CSV) and
the last cell (XLSX, comments aside), from its tallies alone; so is a later round's trend
against it. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import Audience, UnitKind
from storage.models import Answer, Comment, Delivery, Round, RoundParticipant, Unit
from surveys.fieldwork import rounds
from surveys.indicators import Report, compute_report, round_selection
from surveys.privacy import retention
from tests.bot.test_cli import in_process
from tests.surveys import indicator_data as data

RETENTION_MONTHS = 13


async def _round_with_answers(
    session: AsyncSession, units: list[Unit], rng: random.Random, *, weeks: int, comment: str
) -> Round:
    """A round of both audiences in every unit: completed answers with "Ved ikke", skips
    and help flags, people who broke off, people who never answered and a failed
    invitation, and a comment from most who finished."""
    survey = data.standard()
    round_ = await data.round_(session, units, opens=data.T0 + timedelta(weeks=weeks))
    for unit in units:
        kind = UnitKind(unit.kind)
        for audience in (Audience.CITIZEN, Audience.RELATIVE):
            items = survey.items_for(audience, kind)
            for number in range(rng.randint(12, 16)):
                answers, done = data.varied_answers(survey, items, rng)
                await data.person(
                    session,
                    round_,
                    unit,
                    answers,
                    audience=audience.value,
                    proxy=rng.random() < 0.15,
                    status="completed" if done else "started",
                    comment=f"{comment} {unit.name} {number}" if done else None,
                )
            await data.person(session, round_, unit, audience=audience.value, status="sent")
            await data.person(session, round_, unit, audience=audience.value, status="failed")
    return round_


async def _export(database_url: str, round_id: int, tmp: Path, name: str) -> tuple[bytes, Path]:
    """The round's CSV (its bytes) and XLSX, written by `pejling export`."""
    env = {"DATABASE_URL": database_url}
    csv, xlsx = tmp / f"{name}.csv", tmp / f"{name}.xlsx"
    for fmt, path in (("csv", csv), ("xlsx", xlsx)):
        run = await in_process(
            "export", "--round", str(round_id), "--format", fmt, "-o", str(path), env=env
        )
        assert run.code == 0, run.err
    return csv.read_bytes(), xlsx


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's cell values (the file's bytes carry its creation time)."""
    book = load_workbook(path)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


async def _rows_of(session: AsyncSession, round_id: int) -> tuple[int, int, int, int]:
    """(deliveries, answers, comments, participants) of the round."""
    deliveries = select(Delivery.id).where(Delivery.round_id == round_id)
    counts = []
    for query in (
        select(func.count()).select_from(Delivery).where(Delivery.round_id == round_id),
        select(func.count()).select_from(Answer).where(Answer.delivery_id.in_(deliveries)),
        select(func.count()).select_from(Comment).where(Comment.delivery_id.in_(deliveries)),
        select(func.count())
        .select_from(RoundParticipant)
        .where(RoundParticipant.round_id == round_id),
    ):
        counts.append(int(await session.scalar(query) or 0))
    return counts[0], counts[1], counts[2], counts[3]


async def _report(session: AsyncSession, round_id: int) -> Report:
    return await compute_report(session, await round_selection(session, round_id))


async def test_past_the_period_only_the_counts_remain_and_the_export_is_the_same(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    rng = random.Random(14)
    async with sessions() as session:
        units = [
            await data.unit(session, "Plejecenter Åbakken", citizens=30),
            await data.unit(session, "Hjemmeplejen Nord", kind="home_care", citizens=40),
        ]
        # Three rounds of the same survey: the oldest was never marked closed (so it has
        # no tally when the purge comes), the middle one closed and tallied, the newest
        # closed later, within the period, with its trend against the middle one.
        oldest = await _round_with_answers(session, units, rng, weeks=-8, comment="Z")
        old = await _round_with_answers(session, units, rng, weeks=0, comment="God mad")
        new = await _round_with_answers(session, units, rng, weeks=8, comment="Søde folk")
        await session.commit()
        for round_ in (old, new):
            await rounds.close_round(session, round_.id, now=round_.closes_at)
        await session.commit()
        assert oldest.tallied_at is None and oldest.closed_at is None

        before = {r.id: await _report(session, r.id) for r in (oldest, old, new)}
        status_before = await rounds.round_status(session, old.id)
        rows_before = {r.id: await _rows_of(session, r.id) for r in (oldest, old, new)}
    # The old round's report is a real one: figures shown, comments, a trend.
    assert before[old.id].comments and before[new.id].comments
    assert any(f.shown for f in before[old.id].figures.values())
    assert any(f.change is not None for f in before[old.id].figures.values())
    assert any(f.change is not None for f in before[new.id].figures.values())
    assert all(rows[0] > 50 and rows[1] > 300 and rows[2] > 20 for rows in rows_before.values())

    old_csv, old_xlsx = await _export(database_url, old.id, tmp_path, "old-before")
    new_csv, new_xlsx = await _export(database_url, new.id, tmp_path, "new-before")

    # A day past the period for the middle round (and so for the oldest), not the newest.
    assert old.closed_at is not None
    now = old.closed_at + relativedelta(months=RETENTION_MONTHS) + timedelta(days=1)
    async with sessions() as session:
        purged = await retention.purge(session, retention_months=RETENTION_MONTHS, now=now)
        await session.commit()
    removed = [rows_before[oldest.id], rows_before[old.id]]
    assert purged.rounds == 2 and purged.tallied == 1  # the oldest: tallied first
    assert purged.deliveries == sum(r[0] for r in removed)
    assert purged.answers == sum(r[1] for r in removed)
    assert purged.comments == sum(r[2] for r in removed)

    async with sessions() as session:
        # Not one answer, comment, delivery or participant of the purged rounds is left.
        assert await _rows_of(session, oldest.id) == (0, 0, 0, 0)
        assert await _rows_of(session, old.id) == (0, 0, 0, 0)
        assert await _rows_of(session, new.id) == rows_before[new.id]
        after = {r.id: await _report(session, r.id) for r in (oldest, old, new)}
        assert await rounds.round_status(session, old.id) == status_before
        # Nothing can make the purged rounds be counted again from nothing.
        assert await rounds.tally_closed_rounds(session, limit=10) == 0

    # The reports of the purged rounds are the same, comments aside (they went with the
    # answers, as a comment may name someone), and say that their comments were deleted.
    for round_id in (oldest.id, old.id):
        assert after[round_id].purged_rounds == (round_id,) and after[round_id].comments == ()
        assert replace(after[round_id], purged_rounds=(), comments=()) == replace(
            before[round_id], comments=()
        )
    # The newest round, with its trend against the purged one, is untouched, comments too.
    assert after[new.id] == before[new.id]

    old_csv_after, old_xlsx_after = await _export(database_url, old.id, tmp_path, "old-after")
    new_csv_after, new_xlsx_after = await _export(database_url, new.id, tmp_path, "new-after")
    assert old_csv_after == old_csv
    assert new_csv_after == new_csv
    assert _cells(new_xlsx_after) == _cells(new_xlsx)
    cells_before, cells_after = _cells(old_xlsx), _cells(old_xlsx_after)
    comments_before = cells_before.pop("Kommentarer")
    comments_after = cells_after.pop("Kommentarer")
    assert cells_after == cells_before
    assert any("God mad" in str(row) for row in comments_before)
    assert not any("God mad" in str(row) for row in comments_after)
    assert any("slettet sammen med svarene" in str(row) for row in comments_after)
