"""Pejling's intervals against statsmodels, a library written by others (issue 10).

statsmodels computes the Wilson interval (``proportion_confint(method="wilson")``) and
Newcombe's hybrid score interval for a difference
(``confint_proportions_2indep(method="newcomb", compare="diff")``) from the same formulas
as surveys/indicators/stats.py, but its z is the exact normal quantile, norm.isf(alpha/2) =
1.959963984540054 at alpha = 0.05, while the domain notes fix z = 1.96. So the grid is
checked twice: Pejling with its own z = 1.96 against statsmodels at the alpha whose
quantile is 1.96, and Pejling with the exact quantile against statsmodels' alpha = 0.05.
Both must agree to 1e-9; the two conventions themselves differ by less than 1e-5.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from surveys.indicators import Report, compute_report, round_selection
from surveys.indicators.stats import Z95, Interval, newcombe_difference, wilson_interval
from tests.surveys import indicator_data as data

Array = npt.NDArray[np.float64]
TOLERANCE = 1e-9
EXACT_Z = NormalDist().inv_cdf(0.975)
# The two-sided alpha whose normal quantile is Pejling's z = 1.96 (to about 1e-16).
ALPHA_OF_Z95 = 2 * (1 - NormalDist().cdf(Z95))


def _every_count(max_n: int) -> tuple[Array, Array]:
    """Every (x, n) with 1 <= n <= max_n and 0 <= x <= n."""
    ns = np.repeat(np.arange(1, max_n + 1), np.arange(2, max_n + 2))
    xs = np.concatenate([np.arange(n + 1) for n in range(1, max_n + 1)])
    return xs.astype(float), ns.astype(float)


def _pairs() -> tuple[Array, Array, Array, Array]:
    """Rounds to compare: every count of small rounds against every count of small
    rounds, and a seeded sample of rounds up to 500 answers, a third of them at the
    edges x = 0 or x = n (where the Wilson interval touches 0 or 1)."""
    small = [*range(1, 11), 15, 20, 30]
    rows = [
        (x1, n1, x2, n2)
        for n1 in small
        for n2 in small
        for x1 in range(n1 + 1)
        for x2 in range(n2 + 1)
    ]
    rng = np.random.default_rng(20260310)
    size = 24_000
    n1 = rng.integers(1, 501, size)
    n2 = rng.integers(1, 501, size)
    x1 = rng.integers(0, n1 + 1)
    x2 = rng.integers(0, n2 + 1)
    edge = rng.random(size) < 1 / 3
    x1 = np.where(edge, np.where(rng.random(size) < 0.5, 0, n1), x1)
    x2 = np.where(edge & (rng.random(size) < 0.5), np.where(x1 == 0, n2, 0), x2)
    rows += list(zip(x1.tolist(), n1.tolist(), x2.tolist(), n2.tolist(), strict=True))
    grid = np.array(rows, dtype=float)
    return grid[:, 0], grid[:, 1], grid[:, 2], grid[:, 3]


def _ours(intervals: list[Interval]) -> tuple[Array, Array]:
    return (
        np.array([i.low for i in intervals], dtype=float),
        np.array([i.high for i in intervals], dtype=float),
    )


def _worst(
    ours: tuple[Array, Array], theirs: tuple[Array, Array], where: Callable[[int], str]
) -> str:
    gap = np.maximum(np.abs(ours[0] - theirs[0]), np.abs(ours[1] - theirs[1]))
    at = int(np.argmax(gap))
    return f"largest gap {gap[at]:.3g} at {where(at)}"


@pytest.mark.parametrize(
    ("z", "alpha"), [(Z95, ALPHA_OF_Z95), (EXACT_Z, 0.05)], ids=["z=1.96", "z=exact"]
)
def test_wilson_matches_statsmodels_for_every_count_up_to_500(z: float, alpha: float) -> None:
    xs, ns = _every_count(500)
    ours = _ours([wilson_interval(x, n, z) for x, n in zip(xs.tolist(), ns.tolist(), strict=True)])
    theirs = proportion_confint(xs, ns, alpha=alpha, method="wilson")
    gap = _worst(ours, theirs, lambda i: f"x={xs[i]:.0f}, n={ns[i]:.0f}")
    assert np.allclose(ours[0], theirs[0], rtol=0, atol=TOLERANCE), gap
    assert np.allclose(ours[1], theirs[1], rtol=0, atol=TOLERANCE), gap


@pytest.mark.parametrize(
    ("z", "alpha"), [(Z95, ALPHA_OF_Z95), (EXACT_Z, 0.05)], ids=["z=1.96", "z=exact"]
)
def test_newcombe_matches_statsmodels_for_pairs_of_rounds(z: float, alpha: float) -> None:
    x1, n1, x2, n2 = _pairs()
    ours = _ours(
        [
            newcombe_difference(a, b, c, d, z).interval
            for a, b, c, d in zip(x1.tolist(), n1.tolist(), x2.tolist(), n2.tolist(), strict=True)
        ]
    )
    theirs = confint_proportions_2indep(
        x1, n1, x2, n2, method="newcomb", compare="diff", alpha=alpha
    )
    gap = _worst(ours, theirs, lambda i: f"{x1[i]:.0f}/{n1[i]:.0f} - {x2[i]:.0f}/{n2[i]:.0f}")
    assert np.allclose(ours[0], theirs[0], rtol=0, atol=TOLERANCE), gap
    assert np.allclose(ours[1], theirs[1], rtol=0, atol=TOLERANCE), gap


def test_fractional_counts_of_themes_and_roll_ups_match_statsmodels() -> None:
    # A theme share is a mean of per-person shares and a roll-up's count is p * n_eff,
    # so x and n need not be whole numbers; the formulas only use p and n.
    rng = np.random.default_rng(7)
    n = rng.uniform(1, 500, 5_000)
    x = n * rng.random(5_000)
    ours = _ours([wilson_interval(a, b) for a, b in zip(x.tolist(), n.tolist(), strict=True)])
    theirs = proportion_confint(x, n, alpha=ALPHA_OF_Z95, method="wilson")
    assert np.allclose(ours[0], theirs[0], rtol=0, atol=TOLERANCE)
    assert np.allclose(ours[1], theirs[1], rtol=0, atol=TOLERANCE)
    half = len(n) // 2
    ours_d = _ours(
        [
            newcombe_difference(a, b, c, d).interval
            for a, b, c, d in zip(x[:half], n[:half], x[half:], n[half:], strict=True)
        ]
    )
    theirs_d = confint_proportions_2indep(
        x[:half], n[:half], x[half:], n[half:], method="newcomb", compare="diff", alpha=ALPHA_OF_Z95
    )
    assert np.allclose(ours_d[0], theirs_d[0], rtol=0, atol=TOLERANCE)
    assert np.allclose(ours_d[1], theirs_d[1], rtol=0, atol=TOLERANCE)


def test_z_of_the_domain_notes_and_the_exact_quantile_differ_by_less_than_1e_5() -> None:
    # Not a bug in either: the domain notes round the quantile to 1.96. The difference
    # is far below what an export shows (whole percentage points).
    xs, ns = _every_count(500)
    rounded = _ours([wilson_interval(x, n) for x, n in zip(xs.tolist(), ns.tolist(), strict=True)])
    exact = proportion_confint(xs, ns, alpha=0.05, method="wilson")
    gap = max(np.abs(rounded[0] - exact[0]).max(), np.abs(rounded[1] - exact[1]).max())
    assert 1e-7 < gap < 1e-5


async def test_every_interval_of_a_report_matches_statsmodels(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The indicators call the checked functions with the counts they report."""
    async with sessions() as session:
        a = await data.unit(session, "A")
        b = await data.unit(session, "B", citizens=35)
        before = await data.round_(session, [a, b], opens=data.T0 - timedelta(days=90))
        await data.people(session, before, a, 8, {"M1": 2, "K2": 1, "E1": 1})
        await data.people(session, before, a, 12, {"M1": 4, "K2": 3, "E1": 4})
        await data.people(session, before, b, 9, {"M1": 1, "K2": 4})
        now = await data.round_(session, [a, b])
        await data.people(session, now, a, 18, {"M1": 1, "K2": 1, "E1": 4})
        await data.people(session, now, a, 2, {"M1": 5, "K2": 4, "E1": 1})
        await data.people(session, now, b, 6, {"M1": 5, "K2": 2})
        await data.people(session, now, b, 7, {"M1": 2, "K2": 1})
        await session.commit()
        report = await _report(session, now.id)
        baseline = await _report(session, before.id)

    shares = changes = 0
    for (key, unit_id), figure in report.figures.items():
        if figure.values is None or figure.values.share is None:
            continue
        share = figure.values.share
        low, high = proportion_confint(share.x, share.n, alpha=ALPHA_OF_Z95, method="wilson")
        assert share.interval.low == pytest.approx(low, abs=TOLERANCE), (key, unit_id)
        assert share.interval.high == pytest.approx(high, abs=TOLERANCE), (key, unit_id)
        shares += 1
        if figure.change is None:
            continue
        then = baseline.figure(key, unit_id)
        assert then is not None and then.values is not None and then.values.share is not None
        low, high = confint_proportions_2indep(
            share.x,
            share.n,
            then.values.share.x,
            then.values.share.n,
            method="newcomb",
            compare="diff",
            alpha=ALPHA_OF_Z95,
        )
        assert figure.change.difference.interval.low == pytest.approx(low, abs=TOLERANCE)
        assert figure.change.difference.interval.high == pytest.approx(high, abs=TOLERANCE)
        changes += 1
    # Units, the municipality (a weighted roll-up), items and themes all took part.
    assert shares >= 10 and changes >= 4


async def _report(session: AsyncSession, round_id: int) -> Report:
    return await compute_report(session, await round_selection(session, round_id))
