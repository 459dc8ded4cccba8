"""Scoring of single answers, worked by hand."""

from __future__ import annotations

import pytest

from surveys.questionnaire.loader import SURVEY_DIR, load_survey
from surveys.questionnaire.schema import Scale, Survey
from surveys.questionnaire.scoring import (
    index_score,
    is_bottom_box,
    is_proxy,
    is_top2,
    is_top_box,
    severe_loneliness,
    tils_score,
    tils_sum,
)

TILF5 = Scale(
    id="TILF5",
    options=["Meget tilfreds", "Tilfreds", "Hverken eller", "Utilfreds", "Meget utilfreds"],
    best="first",
)
# The same idea shown worst-first, to check the other direction.
WORST_FIRST5 = Scale(
    id="UP5",
    options=["Meget utilfreds", "Utilfreds", "Hverken eller", "Tilfreds", "Meget tilfreds"],
    best="last",
)
NOMINAL = Scale(id="K1", options=["1-2", "3-5", "6-10", "Over 10"], best="none")


@pytest.fixture(scope="module")
def standard() -> Survey:
    return load_survey(SURVEY_DIR / "standard.yaml")


# (k-1)/(K-1)*100 with k counted from the worst option, K = 5:
# "Meget tilfreds" is k=5 -> 4/4*100 = 100, "Tilfreds" k=4 -> 75, ..., worst k=1 -> 0.
@pytest.mark.parametrize(
    ("position", "expected"), [(1, 100.0), (2, 75.0), (3, 50.0), (4, 25.0), (5, 0.0)]
)
def test_index_best_first(position: int, expected: float) -> None:
    assert index_score(TILF5, position) == expected


@pytest.mark.parametrize(
    ("position", "expected"), [(1, 0.0), (2, 25.0), (3, 50.0), (4, 75.0), (5, 100.0)]
)
def test_index_best_last(position: int, expected: float) -> None:
    assert index_score(WORST_FIRST5, position) == expected


def test_same_answer_scores_the_same_whichever_way_it_is_shown() -> None:
    for label in TILF5.options:
        a = index_score(TILF5, TILF5.options.index(label) + 1)
        b = index_score(WORST_FIRST5, WORST_FIRST5.options.index(label) + 1)
        assert a == b, label


def test_four_point_and_three_point_steps(standard: Survey) -> None:
    e1 = standard.scale_of("E1")  # Ja, ofte (worst) ... Nej (best, last)
    assert [index_score(e1, v) for v in (1, 2, 3, 4)] == pytest.approx(
        [0.0, 100 / 3, 200 / 3, 100.0]
    )
    t3 = standard.scale_of("E2")  # Næsten aldrig (best, first)
    assert [index_score(t3, v) for v in (1, 2, 3)] == [100.0, 50.0, 0.0]


def test_nominal_scale_has_no_index_or_top2() -> None:
    assert index_score(NOMINAL, 2) is None
    assert is_top2(NOMINAL, 1) is None
    assert is_top_box(NOMINAL, 1) is None


def test_top2_and_top_box() -> None:
    assert [is_top2(TILF5, v) for v in range(1, 6)] == [True, True, False, False, False]
    assert [is_top_box(TILF5, v) for v in range(1, 6)] == [True, False, False, False, False]
    assert [is_top2(WORST_FIRST5, v) for v in range(1, 6)] == [False, False, False, True, True]
    assert [is_top_box(WORST_FIRST5, v) for v in range(1, 6)] == [False] * 4 + [True]


def test_continuity_top2_is_all_or_most(standard: Survey) -> None:
    k2 = standard.scale_of("K2")
    positive = [k2.options[v - 1] for v in range(1, 5) if is_top2(k2, v)]
    assert positive == ["Ja, alle", "Ja, de fleste"]


def test_e1_often_is_the_bottom_box(standard: Survey) -> None:
    e1 = standard.scale_of("E1")
    assert [is_bottom_box(e1, v) for v in (1, 2, 3, 4)] == [True, False, False, False]


def test_out_of_range_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="outside scale TILF5"):
        index_score(TILF5, 6)
    with pytest.raises(ValueError):
        is_top2(TILF5, 0)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ((1, 1, 1), 3),  # Næsten aldrig x3
        ((2, 2, 2), 6),  # Af og til x3
        ((3, 2, 2), 7),  # the cut-off
        ((3, 3, 3), 9),  # Ofte x3
    ],
)
def test_tils_sum(standard: Survey, answers: tuple[int, int, int], expected: int) -> None:
    values: dict[str, int | None] = dict(zip(["E2", "E3", "E4"], answers, strict=True))
    values["E1"] = 1  # other items do not count
    assert tils_sum(values, standard) == expected


def test_tils_sum_needs_all_three(standard: Survey) -> None:
    assert tils_sum({"E2": 3, "E3": 3}, standard) is None  # skipped
    assert tils_sum({"E2": 3, "E3": 3, "E4": None}, standard) is None  # "Ved ikke"


def test_tils_score_follows_the_labels() -> None:
    reversed_t3 = Scale(id="T3R", options=["Ofte", "Af og til", "Næsten aldrig"], best="last")
    assert [tils_score(reversed_t3, v) for v in (1, 2, 3)] == [3, 2, 1]


@pytest.mark.parametrize(
    ("total", "severe"), [(3, False), (6, False), (7, True), (8, True), (9, True)]
)
def test_severe_loneliness_cut_off_at_7(total: int, severe: bool) -> None:
    assert severe_loneliness(total) is severe


def test_impossible_tils_sum_is_refused() -> None:
    with pytest.raises(ValueError):
        severe_loneliness(10)
    with pytest.raises(ValueError):
        severe_loneliness(2)


def test_proxy_answers_are_flagged(standard: Survey) -> None:
    assert is_proxy(standard, "H1", 1) is False  # Jeg selv
    assert [is_proxy(standard, "H1", v) for v in (2, 3, 4)] == [True, True, True]
    assert is_proxy(standard, "H1", None) is False
    assert is_proxy(standard, "A1", 2) is False  # only H1 marks proxies
