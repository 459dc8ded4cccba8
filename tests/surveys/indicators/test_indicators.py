"""Indicators computed in the database, on SQLite and PostgreSQL, against hand-worked values."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import Audience
from storage.models import Unit
from surveys.fieldwork.tallies import Digits, count_weight_case, tils_case
from surveys.indicators import (
    Figure,
    FigureKey,
    FigureKind,
    Report,
    Suppression,
    Values,
    compute_report,
    period_selection,
    restrict,
    round_selection,
)
from surveys.questionnaire.scoring import index_score, tils_score
from tests.surveys import indicator_data as data

CITIZEN = Audience.CITIZEN
RELATIVE = Audience.RELATIVE
M1 = FigureKey(CITIZEN, FigureKind.ITEM, "M1")
E1 = FigureKey(CITIZEN, FigureKind.ITEM, "E1")
E1_OFTEN = FigureKey(CITIZEN, FigureKind.NEGATIVE, "E1")
TILS = FigureKey(CITIZEN, FigureKind.TILS)
LONELINESS = FigureKey(CITIZEN, FigureKind.THEME, "ensomhed")
MEALS = FigureKey(CITIZEN, FigureKind.THEME, "mad")
RESPONSE = FigureKey(CITIZEN, FigureKind.RESPONSE)
K2 = FigureKey(CITIZEN, FigureKind.ITEM, "K2")


def shown(report: Report, key: FigureKey, unit_id: int | None) -> Values:
    figure = report.figure(key, unit_id)
    assert figure is not None, f"no figure {key} for unit {unit_id}"
    assert figure.values is not None, f"{key} for unit {unit_id} is {figure.suppression}"
    return figure.values


def state(report: Report, key: FigureKey, unit_id: int | None) -> Suppression:
    figure = report.figure(key, unit_id)
    assert figure is not None
    return figure.suppression


async def report_of(session: AsyncSession, round_id: int, *, comments: bool = True) -> Report:
    return await compute_report(
        session, await round_selection(session, round_id), comments=comments
    )


# The twelve citizens of one care home, worked through by hand below.
CARE_HOME: list[data.Answers] = [
    # M1 (TILF5, best first), E1 (ALENE4, best last), E2-E4 (T3, T-ILS 1-3)
    {"M1": 1, "E1": 1, "E2": 3, "E3": 2, "E4": 2},
    {"M1": 1, "E1": 1, "E2": 2, "E3": 2, "E4": 2},
    {"M1": 1, "E1": 1, "E2": 3, "E3": 3, "E4": 3},
    {"M1": 2, "E1": 4, "E2": 3, "E3": 3, "E4": "x"},  # proxy
    {"M1": 2, "E1": 4, "E2": 1, "E3": 1, "E4": 1},  # proxy
    {"M1": 2, "E1": 4, "E2": 3, "E3": 3, "E4": 1},
    {"M1": 2, "E1": 4, "E2": 2, "E3": 2, "E4": 3},
    {"M1": 3, "E1": 4},
    {"M1": 3, "E1": 2},
    {"M1": 5, "E1": 2},
    {"M1": "x"},
    {"M1": "s"},  # broke off
]


async def care_home_round(session: AsyncSession) -> tuple[int, Unit]:
    unit = await data.unit(session, "Plejecenter Åbakken", citizens=20)
    round_ = await data.round_(session, [unit])
    for number, answers in enumerate(CARE_HOME, start=1):
        await data.person(
            session,
            round_,
            unit,
            answers,
            proxy=number in (4, 5),
            status="started" if number == 12 else "completed",
        )
    for status in ("withdrawn", "failed", "pending", "cancelled"):
        await data.person(session, round_, unit, status=status)
    await session.commit()
    return round_.id, unit


async def test_a_care_homes_figures_match_the_hand_calculation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        round_id, unit = await care_home_round(session)
        report = await report_of(session, round_id)

    m1 = shown(report, M1, unit.id)
    # M1: 3 x "Meget tilfreds", 4 x "Tilfreds", 2 x "Hverken eller", 1 x "Meget utilfreds",
    # one "Ved ikke", one skip: n = 10.
    assert (m1.n, m1.dont_know, m1.skipped, m1.proxy) == (10, 1, 1, 2)
    assert m1.distribution == (3, 4, 2, 0, 1)
    assert m1.option_shares == pytest.approx((0.3, 0.4, 0.2, 0.0, 0.1))
    assert m1.share is not None and m1.share.p == pytest.approx(0.7)  # (3 + 4) / 10
    # Wilson, x = 7, n = 10: centre = (0.7 + 0.19208)/1.38416 = 0.644491,
    # half = 1.96·sqrt(0.021 + 0.009604)/1.38416 = 0.247719 -> [0.396772, 0.892210]
    assert m1.share.interval.low == pytest.approx(0.396772, abs=1e-5)
    assert m1.share.interval.high == pytest.approx(0.892210, abs=1e-5)
    assert m1.top_box == pytest.approx(0.3)
    # (3·100 + 4·75 + 2·50 + 1·0) / 10 = 70
    assert m1.index == pytest.approx(70.0)

    e1 = shown(report, E1, unit.id)
    # E1 is best last: "Nej" (4) and "Ja, men sjældent" (3) are the top 2.
    assert e1.distribution == (3, 2, 0, 5)
    assert e1.share is not None and e1.share.p == pytest.approx(0.5)
    # (3·0 + 2·33.33 + 5·100) / 10 = 56.67
    assert e1.index == pytest.approx(56.6667, abs=1e-3)
    often = shown(report, E1_OFTEN, unit.id)
    assert E1_OFTEN.higher_is_worse and not E1.higher_is_worse
    assert often.share is not None and often.share.p == pytest.approx(0.3)  # 3 "Ja, ofte"

    # T-ILS, only for people who answered all three, and severe from a sum of 7:
    tils = shown(report, TILS, unit.id)
    # Sums: 3+2+2 = 7 (severe, at the cut-off), 2+2+2 = 6 (not), 3+3+3 = 9, person 4 has
    # "Ved ikke" on E4 (no sum), 1+1+1 = 3, 3+3+1 = 7, 2+2+3 = 7 -> 4 severe of 6.
    assert TILS.higher_is_worse
    assert (tils.n, tils.dont_know, tils.proxy) == (6, 1, 1)
    assert tils.share is not None and tils.share.p == pytest.approx(4 / 6)
    assert tils.mean == pytest.approx(39 / 6)  # (7 + 6 + 9 + 3 + 7 + 7) / 6

    # Themes: the mean over people who answered at least half the theme's items.
    theme = shown(report, LONELINESS, unit.id)
    # Loneliness for citizens in a care home: E1-E4 (four items), at least two answered.
    # Persons 8-10 answered only E1 and are left out. Per person (index; top-2 share):
    #   1: (0 + 0 + 50 + 50)/4 = 25;     2/4      2: (0 + 50 + 50 + 50)/4 = 37.5; 3/4
    #   3: 0;                            0/4      4: (100 + 0 + 0)/3 = 33.33;      1/3
    #   5: 100;                          4/4      6: (100 + 0 + 0 + 100)/4 = 50;   2/4
    #   7: (100 + 50 + 50 + 0)/4 = 50;   3/4
    assert (theme.n, theme.dont_know, theme.proxy) == (7, 1, 2)
    assert theme.index == pytest.approx((25 + 37.5 + 0 + 100 / 3 + 100 + 50 + 50) / 7)
    assert theme.share is not None
    assert theme.share.p == pytest.approx((0.5 + 0.75 + 0 + 1 / 3 + 1 + 0.5 + 0.75) / 7)
    # Top box per person: 0, 0, 0, 1/3, 1, 2/4, 1/4.
    assert theme.top_box == pytest.approx((1 / 3 + 1 + 0.5 + 0.25) / 7)
    meals = shown(report, MEALS, unit.id)  # one item (M1): everyone with a valid M1 counts
    assert meals.n == 10 and meals.index == pytest.approx(70.0)

    # Response rate (AAPOR RR1), partial answers apart.
    response = shown(report, RESPONSE, unit.id)
    # 12 with answers + withdrawn + failed + pending = 15 invited; the cancelled one was
    # never eligible. 11 completed (2 with help), 1 broke off.
    assert (response.n, response.completed, response.partial, response.proxy) == (15, 11, 1, 2)
    assert response.share is not None and response.share.p == pytest.approx(11 / 15)
    total = shown(report, RESPONSE, None)
    assert (total.n, total.completed) == (15, 11)


async def test_municipality_weights_units_by_citizens_and_secondary_suppression_hides_one_more(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        a = await data.unit(session, "A", citizens=20, moved=30)
        b = await data.unit(session, "B", citizens=60)
        c = await data.unit(session, "C", citizens=10)
        round_ = await data.round_(session, [a, b, c])
        await data.people(session, round_, a, 10, {"M1": 1})
        await data.people(session, round_, b, 5, {"M1": 1})
        await data.people(session, round_, b, 5, {"M1": 4})
        await data.people(session, round_, c, 6, {"M1": 1})  # only 6 invited: never shown
        await session.commit()
        report = await report_of(session, round_.id)

    assert shown(report, M1, b.id).n == 10
    assert state(report, M1, c.id) == Suppression.FEW_INVITED
    # With C alone hidden, total - A - B would give C away: A (fewest answers, then
    # lowest id) is hidden too.
    assert state(report, M1, a.id) == Suppression.SECONDARY
    assert report.figure(M1, a.id).values is None
    total = shown(report, M1, None)
    # Weighted by active citizens (A's 30 who moved out do not count):
    # p = (20·1 + 60·0.5 + 10·1) / 90 = 0.6667, not 21/26 = 0.81 by respondents.
    assert total.share is not None and total.share.p == pytest.approx(60 / 90)
    # variance = (60/90)²·0.25/10 = 0.011111; n_eff = 0.6667·0.3333/0.011111 = 20
    assert total.share.n == pytest.approx(20.0)
    # index: A 100, B (5·100 + 5·25)/10 = 62.5, C 100 -> (2000 + 3750 + 1000)/90 = 75
    assert total.index == pytest.approx(75.0)
    assert total.n == 26
    # The response rate table is protected the same way.
    assert state(report, RESPONSE, c.id) == Suppression.FEW_INVITED
    assert state(report, RESPONSE, a.id) == Suppression.SECONDARY
    assert shown(report, RESPONSE, None).n == 26


async def test_five_answers_are_shown_and_four_are_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        five = await data.unit(session, "Fem")
        four = await data.unit(session, "Fire")
        first = await data.round_(session, [five])
        await data.people(session, first, five, 5, {"M1": 2})
        await data.people(session, first, five, 5)
        second = await data.round_(session, [four], opens=data.T0 + timedelta(days=1))
        await data.people(session, second, four, 4, {"M1": 2})
        await data.people(session, second, four, 6)
        await session.commit()
        shown_five = await report_of(session, first.id)
        hidden_four = await report_of(session, second.id)
    assert shown(shown_five, M1, five.id).n == 5
    assert state(hidden_four, M1, four.id) == Suppression.FEW_ANSWERS
    assert state(hidden_four, M1, None) == Suppression.FEW_ANSWERS


async def test_a_lone_hidden_unit_hides_the_municipality_figure(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        small = await data.unit(session, "Lille")
        quiet = await data.unit(session, "Stille")
        round_ = await data.round_(session, [small, quiet])
        await data.people(session, round_, small, 6, {"M1": 1})
        await data.people(session, round_, quiet, 10, {"A1": 1})
        await session.commit()
        report = await report_of(session, round_.id)
    # Only "Lille" answered M1, and it is hidden: the total would be its figure.
    assert state(report, M1, small.id) == Suppression.FEW_INVITED
    assert state(report, M1, quiet.id) == Suppression.FEW_ANSWERS
    assert state(report, M1, None) == Suppression.SECONDARY


async def test_audiences_are_never_pooled(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        unit = await data.unit(session, "Plejecenter Nord")
        round_ = await data.round_(session, [unit])
        await data.people(session, round_, unit, 10, {"M1": 1})
        # Relatives in a care home: meals has M1 and M4, so one answer is half.
        await data.people(session, round_, unit, 10, {"M1": 5}, audience="relative")
        await data.people(session, round_, unit, 2, {"M4": 1}, audience="relative")
        await session.commit()
        report = await report_of(session, round_.id)
    assert shown(report, M1, unit.id).index == pytest.approx(100.0)
    relatives = shown(report, FigureKey(RELATIVE, FigureKind.ITEM, "M1"), unit.id)
    assert relatives.n == 10 and relatives.index == pytest.approx(0.0)
    meals = shown(report, FigureKey(RELATIVE, FigureKind.THEME, "mad"), unit.id)
    assert meals.n == 12
    assert meals.index == pytest.approx(200 / 12)  # ten at 0, two at 100
    assert report.figure(FigureKey(RELATIVE, FigureKind.TILS), unit.id) is None


async def test_trend_against_the_previous_round_of_the_same_version(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        a = await data.unit(session, "A")
        b = await data.unit(session, "B")
        c = await data.unit(session, "C")
        before = await data.round_(session, [a, b, c], opens=data.T0 - timedelta(days=90))
        await data.people(session, before, a, 8, {"M1": 2, "K2": 1})
        await data.people(session, before, a, 12, {"M1": 4, "K2": 3})
        await data.people(session, before, b, 3, {"M1": 1})
        await data.people(session, before, b, 7)
        await data.people(session, before, c, 15, {"M1": 1})
        # A round of another survey version in between is no baseline.
        other = data.standard().model_copy(update={"version": 2})
        between = await data.round_(session, [a], opens=data.T0 - timedelta(days=30), survey=other)
        await data.people(session, between, a, 20, {"M1": 5}, survey=other)
        now = await data.round_(session, [a, b, c])
        await data.people(session, now, a, 18, {"M1": 1, "K2": 1})
        await data.people(session, now, a, 2, {"M1": 5, "K2": 4})
        await data.people(session, now, b, 10, {"M1": 5})
        await data.people(session, now, c, 15, {"M1": 1})
        await session.commit()
        report = await report_of(session, now.id)

    assert report.baseline is not None and report.baseline.round_ids == (before.id,)
    change = report.figure(M1, a.id).change
    assert change is not None
    # 18/20 now against 8/20 before: d = 0.5.
    # Wilson 18/20: [0.698962, 0.972134]; 8/20: [0.218804, 0.613422]
    # low  = 0.5 - sqrt((0.9 - 0.698962)² + (0.613422 - 0.4)²) = 0.206802
    # high = 0.5 + sqrt((0.972134 - 0.9)² + (0.4 - 0.218804)²) = 0.695026
    assert change.previous == pytest.approx(0.4)
    assert change.difference.estimate == pytest.approx(0.5)
    assert change.difference.interval.low == pytest.approx(0.206802, abs=1e-5)
    assert change.difference.interval.high == pytest.approx(0.695026, abs=1e-5)
    assert change.significant and change.better(higher_is_worse=False) is True
    # K2 "alle"/"de fleste": 18/20 against 8/20 too, but only at A.
    k2 = report.figure(K2, a.id).change
    assert k2 is not None and k2.significant
    # B was hidden before (3 answers), C was hidden to protect it: no change shown.
    assert report.figure(M1, b.id).change is None
    assert report.figure(M1, c.id).change is None
    total = report.figure(M1, None)
    assert total is not None and total.change is not None  # same units both times


async def test_an_insignificant_change_is_not_called_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await data.unit(session, "A")
        before = await data.round_(session, [unit], opens=data.T0 - timedelta(days=90))
        await data.people(session, before, unit, 6, {"M1": 1})
        await data.people(session, before, unit, 4, {"M1": 5})
        now = await data.round_(session, [unit])
        await data.people(session, now, unit, 8, {"M1": 1})
        await data.people(session, now, unit, 2, {"M1": 5})
        await session.commit()
        report = await report_of(session, now.id)
    change = report.figure(M1, unit.id).change
    # 8/10 against 6/10: d = 0.2, but the interval (about -0.19 to 0.52) includes 0.
    assert change is not None and change.difference.estimate == pytest.approx(0.2)
    assert change.difference.interval.low < 0 < change.difference.interval.high
    assert not change.significant and change.better(higher_is_worse=False) is None


async def test_comments_only_for_units_with_ten_completed_answers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        big = await data.unit(session, "Stor")
        small = await data.unit(session, "Lille")
        round_ = await data.round_(session, [big, small])
        for number in range(10):
            await data.person(session, round_, big, {"M1": 1}, comment=f"Tak {9 - number}")
        await data.people(session, round_, small, 9, {"M1": 1}, comment="Maden er kold")
        await data.people(session, round_, small, 3, {"M1": 1}, status="started")
        await data.people(
            session, round_, big, 2, {"M1": 1}, audience="relative", comment="Pårørende"
        )
        await session.commit()
        report = await report_of(session, round_.id)
        staff = await report_of(session, round_.id, comments=False)
    texts = [c.text for c in report.comments]
    assert texts == [f"Tak {n}" for n in range(10)]  # sorted by text, never by time
    assert {c.unit_id for c in report.comments} == {big.id}
    assert staff.comments == () and not staff.comments_included


async def test_a_period_pools_rounds_of_one_version_and_names_the_others(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        a = await data.unit(session, "A")
        b = await data.unit(session, "B")
        first = await data.round_(session, [a], opens=data.T0)
        await data.people(session, first, a, 6, {"M1": 1})
        other = data.standard().model_copy(update={"version": 2})
        odd = await data.round_(session, [b], opens=data.T0 + timedelta(days=2), survey=other)
        second = await data.round_(session, [b], opens=data.T0 + timedelta(days=5))
        await data.people(session, second, a, 6, {"M1": 5})
        await data.people(session, second, b, 10, {"M1": 5})
        earlier = await data.round_(session, [a], opens=data.T0 - timedelta(days=20))
        await data.people(session, earlier, a, 10, {"M1": 1})
        await session.commit()
        selection = await period_selection(session, date(2026, 3, 1), date(2026, 3, 31))
        assert selection.round_ids == (first.id, second.id)
        assert selection.left_out == (odd.id,)
        report = await compute_report(session, selection)
    values = shown(report, M1, a.id)
    assert values.n == 12 and values.share is not None
    assert values.share.p == pytest.approx(0.5)
    assert report.baseline is not None and report.baseline.round_ids == (earlier.id,)


async def test_a_staff_view_keeps_the_suppression_of_the_whole(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        a = await data.unit(session, "A")
        b = await data.unit(session, "B")
        c = await data.unit(session, "C")
        round_ = await data.round_(session, [a, b, c])
        await data.people(session, round_, a, 10, {"M1": 1})
        await data.people(session, round_, b, 12, {"M1": 1})
        await data.people(session, round_, c, 6, {"M1": 1})
        await session.commit()
        whole = await report_of(session, round_.id)
        mine = await compute_report(
            session, await round_selection(session, round_.id), unit_ids=[a.id]
        )
    assert [u.id for u in mine.units] == [a.id]
    assert state(whole, M1, a.id) == state(mine, M1, a.id) == Suppression.SECONDARY
    assert mine.figure(M1, b.id) is None and mine.figure(M1, None) is not None
    assert restrict(whole, [b.id]).figure(M1, b.id) == whole.figure(M1, b.id)


async def test_sql_scores_equal_the_scoring_functions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The SQL that decides which answers count in a theme and in T-ILS, and the T-ILS
    scores, give what ``surveys.questionnaire.scoring`` gives for every item and position (and NULL
    outside the scale and for "Ved ikke")."""
    survey = data.standard()
    digits = Digits.of(survey)
    async with sessions() as session:
        for item in survey.items:
            scale = survey.scale_of(item)
            for kind, position in [("value", p) for p in range(1, scale.size + 1)] + [
                ("value", 99),
                ("dont_know", 1),
            ]:
                item_id, value, kind_ = literal(item.id), literal(position), literal(kind)
                columns = (
                    count_weight_case(survey, item_id, kind_, value, with_tils=False),
                    count_weight_case(survey, item_id, kind_, value, with_tils=True),
                    tils_case(survey, item_id, kind_, value),
                )
                theme, both, tils = (await session.execute(select(*columns))).one()
                valid = kind == "value" and 1 <= position <= scale.size
                scored = valid and scale.ordinal and index_score(scale, position) is not None
                weight = digits.themes[item.theme.value] if scored else None
                assert theme == weight, (item.id, kind, position)
                assert both == (weight + digits.tils if weight and item.tils else weight)
                expected = float(tils_score(scale, position)) if item.tils and valid else None
                assert (None if tils is None else float(tils)) == expected, (item.id, position)


def test_packed_counts_keep_every_theme_apart() -> None:
    survey = data.standard()
    digits = Digits.of(survey)
    weights = [*digits.themes.values(), digits.tils]
    assert len(set(weights)) == len(weights) and digits.base > len(survey.tils_items)
    for theme in digits.themes:
        asked = sum(
            1 for i in survey.items if i.theme.value == theme and survey.scale_of(i).ordinal
        )
        assert asked < digits.base, theme  # a full theme never carries into the next digit


def test_a_hidden_figure_carries_no_numbers() -> None:
    figure = Figure(M1, 1, Suppression.FEW_ANSWERS, None)
    assert not figure.shown
