"""Scoring of single answers: pure functions, no storage, no I/O.

An answer ``value`` is the 1-based position of the chosen option in the order
the options are shown. "Ved ikke" and skipped questions are not values: the
caller leaves them out (or passes ``None`` where a function says so), and they
never count in a denominator.

Indicators built from these (shares, Wilson intervals, suppression, roll-up)
belong elsewhere; see the domain notes.
"""

from __future__ import annotations

from collections.abc import Mapping

from surveys.questionnaire.schema import Scale, Survey

TILS_MIN = 3
TILS_MAX = 9
SEVERE_LONELINESS_CUTOFF = 7
"""A T-ILS sum of 7 or more counts as severe loneliness (Danish Health Authority)."""


def _rank_from_worst(scale: Scale, value: int) -> int:
    """Position counted from the worst option: 1 = worst, K = best."""
    scale.check_value(value)
    if scale.best == "first":
        return scale.size - value + 1
    return value


def index_score(scale: Scale, value: int) -> float | None:
    """Index 0-100 of one answer: ``(k - 1) / (K - 1) * 100``.

    ``k`` is the answer's position counted from the *worst* option (1 = worst)
    and ``K`` the number of options, so the best option scores 100 and the
    worst 0 whichever end the scale starts at. On a 5-point scale the steps are
    0, 25, 50, 75, 100. Returns ``None`` for a nominal scale (``best: none``),
    which has no better or worse. Raises ValueError for a position outside the
    scale.
    """
    if not scale.ordinal:
        scale.check_value(value)
        return None
    k = _rank_from_worst(scale, value)
    return (k - 1) / (scale.size - 1) * 100


def is_top2(scale: Scale, value: int) -> bool | None:
    """True if the answer is one of the two most positive options (top-2 box).

    E.g. "Meget tilfreds"/"Tilfreds", "Altid"/"Ofte", "Ja, alle"/"Ja, de
    fleste". ``None`` for a nominal scale.
    """
    if not scale.ordinal:
        scale.check_value(value)
        return None
    return _rank_from_worst(scale, value) >= scale.size - 1


def is_top_box(scale: Scale, value: int) -> bool | None:
    """True if the answer is the single most positive option ("Meget tilfreds",
    "Altid"). Report it next to the top-2 box: pooling hides moderate
    criticism. ``None`` for a nominal scale."""
    if not scale.ordinal:
        scale.check_value(value)
        return None
    return _rank_from_worst(scale, value) == scale.size


def is_bottom_box(scale: Scale, value: int) -> bool | None:
    """True if the answer is the single worst option, e.g. "Ja, ofte" for E1
    (the negative loneliness indicator). ``None`` for a nominal scale."""
    if not scale.ordinal:
        scale.check_value(value)
        return None
    return _rank_from_worst(scale, value) == 1


def tils_score(scale: Scale, value: int) -> int:
    """Score 1-3 of one T-ILS answer: 1 = "Næsten aldrig", 3 = "Ofte".

    With the standard T3 scale (best option first) this is the position itself;
    a scale shown in the other order is turned round.
    """
    return scale.size - _rank_from_worst(scale, value) + 1


def tils_sum(values: Mapping[str, int | None], survey: Survey) -> int | None:
    """Sum (3-9) of the three T-ILS loneliness items for one person.

    ``values`` maps item id to answer position, or ``None`` for "Ved ikke" or a
    skip. Each item scores 1 ("Næsten aldrig") to 3 ("Ofte"). Only a person who
    answered all three items gets a sum; otherwise, or if the survey has no
    T-ILS items, the result is ``None``.
    """
    items = survey.tils_items
    if not items:
        return None
    total = 0
    for item in items:
        value = values.get(item.id)
        if value is None:
            return None
        total += tils_score(survey.scale_of(item), value)
    return total


def severe_loneliness(tils_total: int) -> bool:
    """True if a T-ILS sum counts as severe loneliness (sum >= 7).

    This is a negative indicator: a higher share is worse. People without a sum
    (``tils_sum`` returned ``None``) are left out of the denominator, so this
    takes an ``int`` only; a sum outside 3-9 raises ValueError.
    """
    if isinstance(tils_total, bool) or not isinstance(tils_total, int):
        raise ValueError(f"a T-ILS sum must be an int, got {tils_total!r}")
    if not TILS_MIN <= tils_total <= TILS_MAX:
        raise ValueError(f"a T-ILS sum is between {TILS_MIN} and {TILS_MAX}, got {tils_total}")
    return tils_total >= SEVERE_LONELINESS_CUTOFF


def is_proxy(survey: Survey, item_id: str, value: int | None) -> bool:
    """True if this answer marks the whole response as given by or with help
    from someone else (H1 positions 2-4 in the standard survey).

    Such responses are flagged, never dropped. ``None`` (not answered) is False.
    """
    if value is None:
        return False
    item = survey.item(item_id)
    survey.scale_of(item).check_value(value)
    return value in item.proxy_values
