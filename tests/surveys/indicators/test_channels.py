"""Figures by channel: each answer counts in the channel it came by, on SQLite and PostgreSQL.

Unit A: 8 people answer by Telegram, 6 on the web, 1 answers M1 and E1 by Telegram and
the three T-ILS items on the web (and finishes there), 2 never answer. Unit B (when asked
for): 12 by Telegram, 3 on the web, M1 only.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import Audience, Channel
from storage.models import Answer, Delivery, Round, Unit
from surveys.exports.csv import csv_bytes
from surveys.exports.method import method_lines
from surveys.exports.xlsx import xlsx_bytes
from surveys.fieldwork import rounds
from surveys.indicators import (
    Figure,
    FigureKey,
    FigureKind,
    Report,
    Suppression,
    Values,
    compute_report,
    round_selection,
)
from tests.surveys import indicator_data as data

TG, WEB = Channel.TELEGRAM, Channel.WEB
CITIZEN = Audience.CITIZEN
M1 = FigureKey(CITIZEN, FigureKind.ITEM, "M1")
E1_OFTEN = FigureKey(CITIZEN, FigureKind.NEGATIVE, "E1")
TILS = FigureKey(CITIZEN, FigureKind.TILS)
LONELINESS = FigureKey(CITIZEN, FigureKind.THEME, "ensomhed")
RESPONSE = FigureKey(CITIZEN, FigureKind.RESPONSE)

LONELY = {"E1": 4, "E2": 3, "E3": 3, "E4": 3}  # "Nej" to E1, "Ofte" x3: T-ILS sum 9
NOT_LONELY = {"E1": 1, "E2": 1, "E3": 1, "E4": 1}  # "Ja, ofte" to E1, T-ILS sum 3


async def _person(
    session: AsyncSession,
    round_: Round,
    unit: Unit,
    answers: dict[str, tuple[int, Channel]],
    completed_by: Channel | None,
) -> None:
    delivery = Delivery(
        round_id=round_.id,
        unit_id=unit.id,
        audience=CITIZEN.value,
        unit_kind=unit.kind,
        status="completed" if completed_by else "sent",
        proxy=False,
        channel=completed_by.value if completed_by else None,
    )
    session.add(delivery)
    await session.flush()
    survey = data.standard()
    session.add_all(
        Answer(
            delivery_id=delivery.id,
            survey_id=survey.id,
            survey_version=survey.version,
            item_id=item_id,
            kind="value",
            value=value,
            channel=channel.value,
        )
        for item_id, (value, channel) in answers.items()
    )
    await session.flush()


def _by(channel: Channel, answers: dict[str, int]) -> dict[str, tuple[int, Channel]]:
    return {item: (value, channel) for item, value in answers.items()}


async def _scenario(session: AsyncSession, *, with_b: bool = False) -> tuple[int, int, int | None]:
    a = await data.unit(session, "Plejecenter A", citizens=20)
    b = await data.unit(session, "Plejecenter B", citizens=20) if with_b else None
    round_ = await data.round_(session, [a] if b is None else [a, b])
    for _ in range(8):
        await _person(session, round_, a, _by(TG, {"M1": 1, **LONELY}), TG)
    for _ in range(6):
        await _person(session, round_, a, _by(WEB, {"M1": 4, **NOT_LONELY}), WEB)
    mixed = {**_by(TG, {"M1": 1, "E1": 4}), **_by(WEB, {"E2": 3, "E3": 3, "E4": 3})}
    await _person(session, round_, a, mixed, WEB)
    for _ in range(2):
        await _person(session, round_, a, {}, None)
    if b is not None:
        for _ in range(12):
            await _person(session, round_, b, _by(TG, {"M1": 2}), TG)
        for _ in range(3):
            await _person(session, round_, b, _by(WEB, {"M1": 5}), WEB)
    await session.commit()
    return round_.id, a.id, None if b is None else b.id


async def _report(session: AsyncSession, round_id: int) -> Report:
    return await compute_report(session, await round_selection(session, round_id))


def _figure(report: Report, key: FigureKey, channel: Channel | None, unit: int | None) -> Figure:
    figure = report.figure(key.in_channel(channel), unit)
    assert figure is not None, (key, channel, unit)
    return figure


def _shown(report: Report, key: FigureKey, channel: Channel | None, unit: int | None) -> Values:
    values = _figure(report, key, channel, unit).values
    assert values is not None, (key, channel, unit)
    return values


def _share(values: Values) -> float:
    assert values.share is not None
    return values.share.p


async def test_each_answer_counts_in_its_channel_and_a_theme_uses_the_channels_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        round_id, a, _ = await _scenario(session)
        report = await _report(session, round_id)
    assert report.channels == (TG, WEB)

    for unit in (a, None):  # one unit: the municipality is the same
        m1 = {c: _shown(report, M1, c, unit) for c in (None, TG, WEB)}
        assert (m1[None].n, m1[TG].n, m1[WEB].n) == (15, 9, 6)
        assert (_share(m1[None]), _share(m1[TG]), _share(m1[WEB])) == pytest.approx((0.6, 1, 0))
        often = {c: _shown(report, E1_OFTEN, c, unit) for c in (None, TG, WEB)}
        assert (often[TG].n, _share(often[TG]), often[WEB].n, _share(often[WEB])) == (
            9,
            0,
            6,
            1,
        )

    # T-ILS: the mixed person answered all three on the web, so counts there only.
    tils = {c: _shown(report, TILS, c, a) for c in (None, TG, WEB)}
    assert (tils[None].n, tils[TG].n, tils[WEB].n) == (15, 8, 7)
    assert _share(tils[None]) == pytest.approx(9 / 15)
    assert _share(tils[TG]) == pytest.approx(1.0)
    assert _share(tils[WEB]) == pytest.approx(1 / 7)

    # Loneliness theme (E1-E4, at least two answered): the mixed person's one Telegram
    # answer is too few there; their three web answers make a web score (index 0).
    theme = {c: _shown(report, LONELINESS, c, a) for c in (None, TG, WEB)}
    assert (theme[None].n, theme[TG].n, theme[WEB].n) == (15, 8, 7)
    assert theme[TG].index == pytest.approx(25)
    assert theme[WEB].index == pytest.approx(6 * 75 / 7)
    assert theme[None].index == pytest.approx((8 * 25 + 6 * 75 + 25) / 15)
    assert _share(theme[WEB]) == pytest.approx(6 * 0.75 / 7)

    # Response: invited is the denominator of the all-channels rate only.
    response = {c: _shown(report, RESPONSE, c, a) for c in (None, TG, WEB)}
    assert (response[None].n, response[None].completed) == (17, 15)
    assert _share(response[None]) == pytest.approx(15 / 17)
    assert (response[TG].completed, response[WEB].completed) == (8, 7)  # mixed finished on web
    assert (response[TG].n, response[WEB].n) == (15, 15)
    assert _share(response[TG]) == pytest.approx(8 / 15)
    assert _share(response[WEB]) == pytest.approx(7 / 15)
    # The figures for all channels are where they always were, in the report's keys.
    assert all(key.channel is None for key in report.keys)


async def test_a_small_channel_cell_is_hidden_and_cannot_be_worked_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        round_id, a, b = await _scenario(session, with_b=True)
        report = await _report(session, round_id)

    def why(channel: Channel | None, unit: int | None) -> Suppression:
        return _figure(report, M1, channel, unit).suppression

    # B's three web answers are too few; its Telegram cell would give them away from B's
    # figure for all channels, so it goes too; then A's Telegram cell would give B's away
    # from the municipality's Telegram figure, and A's web cell A's Telegram cell.
    assert why(WEB, b) == Suppression.FEW_ANSWERS
    assert why(TG, b) == Suppression.SECONDARY
    assert why(TG, a) == Suppression.SECONDARY
    assert why(WEB, a) == Suppression.SECONDARY
    assert _figure(report, M1, WEB, b).values is None
    assert (_shown(report, M1, None, a).n, _shown(report, M1, None, b).n) == (15, 15)
    assert (_shown(report, M1, TG, None).n, _shown(report, M1, WEB, None).n) == (21, 9)

    # Whatever a reader subtracts: no figure shown for all channels with exactly one of
    # its channel cells hidden, and no channel's municipality figure with one hidden unit.
    for key in report.keys:
        for unit in (a, b, None):
            whole = report.figure(key, unit)
            if whole is None or not whole.shown:
                continue
            cells = [report.figure(key.in_channel(c), unit) for c in report.channels]
            hidden = [c for c in cells if c is not None and not c.shown]
            assert len(hidden) != 1, (key, unit)
        for channel in report.channels:
            total = report.figure(key.in_channel(channel), None)
            if total is None or not total.shown:
                continue
            units = [report.figure(key.in_channel(channel), u) for u in (a, b)]
            # Units with no answers in the channel are in no total (nothing to recover).
            hidden_units = [f for f in units if f is not None and not f.shown]
            data_units = [f for f in hidden_units if f.suppression != Suppression.FEW_ANSWERS]
            assert len(hidden_units) != 1 or not data_units, (key, channel)


async def test_closed_rounds_give_the_same_figures_by_channel_from_their_tallies(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        round_id, _, _ = await _scenario(session, with_b=True)
        live = await _report(session, round_id)
        closed = await rounds.close_round(session, round_id)
        assert closed.tallied_at is not None
        await session.commit()
        # Only the tallies are left to count from.
        await session.execute(delete(Answer))
        await session.execute(delete(Delivery))
        await session.commit()
        tallied = await _report(session, round_id)
    assert tallied.channels == live.channels == (TG, WEB)
    assert any(key.channel is WEB for key, _ in live.figures)
    assert tallied.figures == live.figures


def _csv(report: Report) -> list[dict[str, str]]:
    text = csv_bytes(report).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


async def test_csv_and_workbook_show_each_channel(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        round_id, _, _ = await _scenario(session, with_b=True)
        report = await _report(session, round_id)
    table = _csv(report)
    assert {r["kanal"] for r in table} == {"alle", "telegram", "web"}

    def value(unit: str, subject: str, indicator: str, channel: str) -> tuple[str, str]:
        [row] = [
            r
            for r in table
            if (r["enhed"], r["emne_id"], r["indikator"], r["kanal"])
            == (unit, subject, indicator, channel)
        ]
        return row["vaerdi"], row["status"]

    assert value("Plejecenter A", "M1", "n", "alle") == ("15", "")
    assert value("Plejecenter B", "M1", "n", "web") == ("", "for få svar")
    assert value("Plejecenter B", "M1", "n", "telegram") == ("", "skjult (beskytter små tal)")
    assert value("Hele kommunen", "M1", "n", "telegram") == ("21", "")
    assert value("Plejecenter A", "tils", "n", "web") == ("7", "")
    assert value("Plejecenter A", "tils", "andel", "telegram") == ("1", "")
    assert value("Plejecenter A", "ensomhed", "n", "telegram") == ("8", "")
    assert value("Plejecenter A", "response", "svarprocent", "alle") == ("0,882353", "")
    assert value("Plejecenter A", "response", "gennemfoerte", "web") == ("7", "")
    assert value("Plejecenter A", "response", "andel_af_gennemfoerte", "telegram") == (
        "0,533333",
        "",
    )
    assert value("Hele kommunen", "response", "gennemfoerte", "telegram") == ("20", "")
    # A channel has no response rate and no invited of its own.
    assert not [
        r
        for r in table
        if r["kanal"] != "alle" and r["indikator"] in ("svarprocent", "inviterede", "delvise")
    ]

    book = load_workbook(io.BytesIO(xlsx_bytes(report)))
    lines: list[tuple[Any, ...]] = [
        row[:6]
        for row in book["Svarprocent"].iter_rows(values_only=True)
        if row[2] in ("Telegram", "Web")
    ]
    assert lines == [
        ("Borgere", "Plejecenter A", "Telegram", 8, pytest.approx(8 / 15), 0),
        ("Borgere", "Plejecenter A", "Web", 7, pytest.approx(7 / 15), 0),
        ("Borgere", "Plejecenter B", "Telegram", 12, pytest.approx(12 / 15), 0),
        ("Borgere", "Plejecenter B", "Web", 3, pytest.approx(3 / 15), 0),
        ("Borgere", "Hele kommunen", "Telegram", 20, pytest.approx(20 / 30), 0),
        ("Borgere", "Hele kommunen", "Web", 10, pytest.approx(10 / 30), 0),
    ]
    # The overview stays as it was: one line per unit, for all channels.
    overview = [r[1] for r in book["Overblik"].iter_rows(values_only=True) if r[0] == "Borgere"]
    assert overview == ["Plejecenter A", "Plejecenter B", "Hele kommunen"]
    method = " ".join(str(r[0]) for r in book["Metode"].iter_rows(values_only=True) if r[0])
    assert "Hvert svar tæller i den kanal, det kom fra" in method
    assert "ingen svarprocent for sig selv" in method
    assert "Her er der svar fra begge kanaler" in method


async def test_answers_by_one_channel_are_not_split(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await data.unit(session, "Plejecenter C", citizens=20)
        round_ = await data.round_(session, [unit])
        for _ in range(12):
            await _person(session, round_, unit, _by(TG, {"M1": 1}), TG)
        await session.commit()
        report = await _report(session, round_.id)
    assert (report.channels, report.channels_used) == ((), (TG,))
    assert not [cell for cell in report.figures if cell[0].channel is not None]
    assert {r["kanal"] for r in _csv(report)} == {"alle"}
    text = " ".join(text for _, text in method_lines(report))
    assert "Her kom alle svar via Telegram" in text
