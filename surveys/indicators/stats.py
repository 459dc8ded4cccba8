"""Interval estimates for proportions: pure functions, no storage, no I/O.

- Wilson score interval for one proportion (Brown, Cai & DasGupta 2001, Statistical
  Science 16:101), as written in the domain notes.
- Newcombe's hybrid score interval for the difference of two independent proportions
  (method 10 in Newcombe 1998, Statistics in Medicine 17:873), built from the two
  Wilson intervals.
- The effective sample size of a weighted (stratified) proportion (Kish; Korn & Graubard
  1998), so the municipality's roll-up gets a Wilson interval too.

Counts may be fractional: a theme's share is a mean of per-person shares, and a
roll-up's count is ``p * n_eff``. The formulas only use ``p`` and ``n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.96
"""The normal quantile for a two-sided 95 % interval, as the domain notes use it."""


@dataclass(frozen=True)
class Interval:
    """A closed interval ``[low, high]``."""

    low: float
    high: float

    def excludes_zero(self) -> bool:
        """True if 0 lies outside the interval (a significant difference)."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Difference:
    """``p1 - p2`` with its Newcombe interval."""

    estimate: float
    interval: Interval


def _check(x: float, n: float) -> None:
    if not n > 0:
        raise ValueError(f"a proportion needs n > 0, got n={n}")
    if not 0 <= x <= n:
        raise ValueError(f"the count must lie between 0 and n={n}, got {x}")


def wilson_interval(x: float, n: float, z: float = Z95) -> Interval:
    """Wilson score interval for the proportion ``x / n``.

    centre = (p + z²/2n) / (1 + z²/n), half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
    """
    _check(x, n)
    p = x / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At p = 0 (p = 1) the lower (upper) end is exactly 0 (1); say so despite rounding.
    low = 0.0 if x == 0 else max(0.0, centre - half)
    high = 1.0 if x == n else min(1.0, centre + half)
    return Interval(low, high)


def newcombe_difference(x1: float, n1: float, x2: float, n2: float, z: float = Z95) -> Difference:
    """Difference ``p1 - p2`` with Newcombe's hybrid score interval (method 10).

    With (l1, u1) and (l2, u2) the Wilson intervals of p1 and p2:
    low = d - sqrt((p1 - l1)² + (u2 - p2)²), high = d + sqrt((u1 - p1)² + (p2 - l2)²).
    """
    _check(x1, n1)
    _check(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    first, second = wilson_interval(x1, n1, z), wilson_interval(x2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - first.low) ** 2 + (second.high - p2) ** 2)
    high = d + math.sqrt((first.high - p1) ** 2 + (p2 - second.low) ** 2)
    return Difference(d, Interval(max(-1.0, low), min(1.0, high)))


@dataclass(frozen=True)
class Stratum:
    """One unit's part of a roll-up: its weight, share and number of answers."""

    weight: float
    p: float
    n: float


def weighted_share(strata: Sequence[Stratum]) -> tuple[float, float]:
    """A weighted share and its effective sample size, ``(p, n_eff)``.

    p = Σ w·p_u / Σ w. Its variance is Σ (w/W)²·p_u(1-p_u)/n_u (units as strata), and
    n_eff = p(1-p) / variance: the number of simple random answers that would give the
    same precision (Korn & Graubard 1998). It is never more than the answers there are:
    where the variance is 0 (every unit at 0 % or 100 %) n_eff is the plain total.
    Strata with weight 0 or n 0 are left out; raises ValueError if none is left.
    """
    used = [s for s in strata if s.weight > 0 and s.n > 0]
    if not used:
        raise ValueError("a weighted share needs at least one unit with weight and answers")
    total_weight = sum(s.weight for s in used)
    total_n = sum(s.n for s in used)
    p = sum(s.weight * s.p for s in used) / total_weight
    variance = sum((s.weight / total_weight) ** 2 * s.p * (1 - s.p) / s.n for s in used)
    if variance <= 0:
        return p, total_n
    return p, min(total_n, p * (1 - p) / variance)
