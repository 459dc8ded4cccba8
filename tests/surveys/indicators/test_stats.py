"""Wilson and Newcombe intervals against values worked out by hand (z = 1.96)."""

from __future__ import annotations

import pytest

from surveys.indicators.stats import Stratum, newcombe_difference, weighted_share, wilson_interval

# Hand calculation, z = 1.96, z² = 3.8416:
#   centre = (p + z²/2n) / (1 + z²/n),  half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)
#
# n = 5:   z²/n = 0.76832, denominator 1.76832, z²/2n = 0.38416, z²/4n² = 0.038416
#   p = 0:   centre = 0.38416/1.76832 = 0.217245; half = 1.96·0.196/1.76832 = 0.217245
#            -> [0, 0.434491]
#   p = 0.5: centre = 0.88416/1.76832 = 0.5; half = 1.96·sqrt(0.05 + 0.038416)/1.76832
#            = 1.96·0.297348/1.76832 = 0.329580 -> [0.170420, 0.829580]
#   p = 1:   mirror of p = 0 -> [0.565509, 1]
# n = 20:  z²/n = 0.19208, denominator 1.19208, z²/2n = 0.09604, z²/4n² = 0.002401
#   p = 0:   centre = half = 0.09604/1.19208 = 0.080565 -> [0, 0.161130]
#   p = 0.5: half = 1.96·sqrt(0.0125 + 0.002401)/1.19208 = 1.96·0.122070/1.19208 = 0.200705
#            -> [0.299295, 0.700705]
#   p = 1:   -> [0.838870, 1]
# n = 200: z²/n = 0.019208, denominator 1.019208, z²/2n = 0.009604, z²/4n² = 0.00002401
#   p = 0:   upper = 2·0.009604/1.019208 = 0.018846 -> [0, 0.018846]
#   p = 0.5: half = 1.96·sqrt(0.00125 + 0.00002401)/1.019208 = 1.96·0.035693/1.019208
#            = 0.068640 -> [0.431360, 0.568640]
#   p = 1:   -> [0.981154, 1]
WILSON = [
    (5, 0.0, 0.0, 0.434491),
    (5, 0.5, 0.170420, 0.829580),
    (5, 1.0, 0.565509, 1.0),
    (20, 0.0, 0.0, 0.161130),
    (20, 0.5, 0.299295, 0.700705),
    (20, 1.0, 0.838870, 1.0),
    (200, 0.0, 0.0, 0.018846),
    (200, 0.5, 0.431360, 0.568640),
    (200, 1.0, 0.981154, 1.0),
]


@pytest.mark.parametrize(("n", "p", "low", "high"), WILSON)
def test_wilson_interval_matches_the_hand_calculation(
    n: int, p: float, low: float, high: float
) -> None:
    interval = wilson_interval(p * n, n)
    assert interval.low == pytest.approx(low, abs=1e-6)
    assert interval.high == pytest.approx(high, abs=1e-6)


def test_wilson_interval_ends_exactly_at_0_and_1() -> None:
    assert wilson_interval(0, 7).low == 0.0
    assert wilson_interval(7, 7).high == 1.0


@pytest.mark.parametrize(("x", "n"), [(1, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(x: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(x, n)


def test_newcombe_difference_matches_newcombes_example() -> None:
    # Newcombe 1998, example (a): 56/70 - 48/80 = 0.8 - 0.6 = 0.2.
    # Wilson: 56/70 -> [0.691831, 0.876954]; 48/80 -> [0.490453, 0.700383].
    # low  = 0.2 - sqrt((0.8 - 0.691831)² + (0.700383 - 0.6)²)
    #      = 0.2 - sqrt(0.011701 + 0.010077) = 0.2 - 0.147571 = 0.052429
    # high = 0.2 + sqrt((0.876954 - 0.8)² + (0.6 - 0.490453)²)
    #      = 0.2 + sqrt(0.005922 + 0.012001) = 0.2 + 0.133875 = 0.333875
    # The paper gives 0.0524 to 0.3339 for method 10.
    difference = newcombe_difference(56, 70, 48, 80)
    assert difference.estimate == pytest.approx(0.2)
    assert difference.interval.low == pytest.approx(0.052429, abs=1e-5)
    assert difference.interval.high == pytest.approx(0.333875, abs=1e-5)
    assert difference.interval.excludes_zero()


def test_newcombe_difference_with_a_zero_count_includes_zero() -> None:
    # Newcombe 1998, example (h): 5/56 - 0/29; the paper gives -0.0381 to 0.1926.
    difference = newcombe_difference(5, 56, 0, 29)
    assert difference.interval.low == pytest.approx(-0.0381, abs=1e-4)
    assert difference.interval.high == pytest.approx(0.1926, abs=1e-4)
    assert not difference.interval.excludes_zero()


def test_weighted_share_weights_units_by_citizens_and_gives_an_effective_n() -> None:
    # Unit A: 20 citizens, 10/10 positive; unit B: 60 citizens, 5/10 positive.
    # p = (20·1 + 60·0.5)/80 = 0.625.
    # variance = (20/80)²·0 + (60/80)²·0.25/10 = 0.5625·0.025 = 0.0140625
    # n_eff = 0.625·0.375/0.0140625 = 16.6667 (fewer than the 20 answers)
    p, n_eff = weighted_share([Stratum(20, 1.0, 10), Stratum(60, 0.5, 10)])
    assert p == pytest.approx(0.625)
    assert n_eff == pytest.approx(16.666667)


def test_weighted_share_without_variance_keeps_the_plain_n() -> None:
    p, n_eff = weighted_share([Stratum(10, 1.0, 6), Stratum(30, 1.0, 8), Stratum(0, 0.0, 9)])
    assert (p, n_eff) == (1.0, 14)
