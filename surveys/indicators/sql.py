"""The database side of the indicators: GROUP BY queries that return small tables.

No answer row ever reaches Python. Per-answer scores are CASE expressions built from
the survey definition with the very functions of ``surveys.scoring``, so the SQL and
the Python rules cannot drift apart; per-person scores are a subquery grouped by
delivery. Every query returns at most (units x audiences x items x options) rows,
however many answers there are. Works the same on SQLite and PostgreSQL: constants
are typed bind parameters, and grouping is always by plain columns of a subquery.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, SQLColumnExpression, String, case, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from storage.models import (
    Answer,
    AnswerKind,
    Citizen,
    CitizenStatus,
    Comment,
    Delivery,
    DeliveryStatus,
    Unit,
    round_units,
)
from surveys.schema import Item, Scale, Survey
from surveys.scoring import index_score, is_bottom_box, is_top2, is_top_box, tils_score

NOT_INVITED = (DeliveryStatus.CANCELLED.value,)
"""Delivery statuses of people who turned out not to be eligible before they were
invited (the citizen moved or died): left out of the response-rate denominator."""
COMPLETED = DeliveryStatus.COMPLETED.value
STARTED = DeliveryStatus.STARTED.value

ScoreFn = Callable[[Scale, int], float | None]


def score_case(
    survey: Survey,
    items: Sequence[Item],
    score: ScoreFn,
    item_column: SQLColumnExpression[str],
    value_column: SQLColumnExpression[int | None],
) -> ColumnElement[float | None]:
    """A SQL CASE giving ``score(scale, value)`` for an answer to one of ``items``.

    Items are grouped by scale: ``CASE WHEN item IN (...) THEN CASE value WHEN 1 THEN
    ... END ... END``. NULL for other items, positions outside the scale, and where
    ``score`` gives None. Booleans become 1.0 / 0.0, so SUM counts them.
    """
    by_scale: dict[str, list[str]] = defaultdict(list)
    for item in items:
        by_scale[item.scale].append(item.id)
    branches = []
    for scale_id, item_ids in by_scale.items():
        scale = survey.scales[scale_id]
        values: dict[int, float] = {}
        for position in range(1, scale.size + 1):
            result = score(scale, position)
            if result is not None:
                values[position] = float(result)
        if not values:
            continue
        inner = case(
            {position: literal(number, Float()) for position, number in values.items()},
            value=value_column,
            else_=null(),
        )
        branches.append((item_column.in_(item_ids), inner))
    if not branches:
        return literal(None, Float())
    return case(*branches, else_=null())


def theme_case(
    items: Sequence[Item], item_column: SQLColumnExpression[str]
) -> ColumnElement[str | None]:
    """A SQL CASE giving the theme (its tag) of an answer's item."""
    by_theme: dict[str, list[str]] = defaultdict(list)
    for item in items:
        by_theme[item.theme.value].append(item.id)
    return case(
        *[(item_column.in_(ids), literal(theme, String())) for theme, ids in by_theme.items()],
        else_=null(),
    )


def _as_float(scale: Scale, value: int, test: Callable[[Scale, int], bool | None]) -> float | None:
    result = test(scale, value)
    return None if result is None else float(result)


def top2_score(scale: Scale, value: int) -> float | None:
    """1.0 for a top-2 answer, 0.0 otherwise, None on a nominal scale."""
    return _as_float(scale, value, is_top2)


def top_box_score(scale: Scale, value: int) -> float | None:
    """1.0 for the best option, 0.0 otherwise, None on a nominal scale."""
    return _as_float(scale, value, is_top_box)


def bottom_box_score(scale: Scale, value: int) -> float | None:
    """1.0 for the worst option, 0.0 otherwise, None on a nominal scale."""
    return _as_float(scale, value, is_bottom_box)


def tils_item_score(scale: Scale, value: int) -> float | None:
    """The T-ILS score (1-3) of one answer."""
    return float(tils_score(scale, value))


# ------------------------------------------------------------------ raw tables


@dataclass(frozen=True)
class ItemCount:
    """Answers of one kind and value to one item in one unit and audience."""

    unit_id: int
    audience: str
    item_id: str
    kind: str
    value: int | None
    proxy: bool
    count: int


@dataclass(frozen=True)
class ThemeGroup:
    """People of one unit, audience, unit kind and proxy flag who answered ``answered``
    of a theme's items, with the sums of their per-person means."""

    unit_id: int
    audience: str
    unit_kind: str
    proxy: bool
    theme: str
    answered: int
    people: int
    index_sum: float
    top2_sum: float
    top_sum: float


@dataclass(frozen=True)
class TilsGroup:
    """People of one unit and audience with ``answered`` T-ILS items summing to ``total``."""

    unit_id: int
    audience: str
    proxy: bool
    answered: int
    total: int
    people: int


@dataclass(frozen=True)
class DeliveryCount:
    """Deliveries of one unit, audience, status and proxy flag, with or without answers."""

    unit_id: int
    audience: str
    status: str
    proxy: bool
    has_answers: bool
    count: int


def _in_rounds(round_ids: Sequence[int]) -> ColumnElement[bool]:
    return Delivery.round_id.in_(list(round_ids))


def _valid_answers(
    round_ids: Sequence[int], items: Sequence[Item], *scores: ColumnElement[Any]
) -> Subquery:
    """One row per valid answer to ``items`` in the rounds, with its delivery's
    dimensions and the given per-answer ``scores``: the base of the per-person figures."""
    return (
        select(
            Delivery.id.label("delivery_id"),
            Delivery.unit_id.label("unit_id"),
            Delivery.audience.label("audience"),
            Delivery.unit_kind.label("unit_kind"),
            Delivery.proxy.label("proxy"),
            *scores,
        )
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .where(
            _in_rounds(round_ids),
            Answer.kind == AnswerKind.VALUE,
            Answer.item_id.in_([item.id for item in items]),
        )
        .subquery("per_answer")
    )


async def item_counts(session: AsyncSession, round_ids: Sequence[int]) -> list[ItemCount]:
    """Answers counted by unit, audience, item, kind, value and proxy flag."""
    query = (
        select(
            Delivery.unit_id,
            Delivery.audience,
            Answer.item_id,
            Answer.kind,
            Answer.value,
            Delivery.proxy,
            func.count(),
        )
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .where(_in_rounds(round_ids))
        .group_by(
            Delivery.unit_id,
            Delivery.audience,
            Answer.item_id,
            Answer.kind,
            Answer.value,
            Delivery.proxy,
        )
    )
    return [
        ItemCount(u, a, i, k, v, bool(p), int(c))
        for u, a, i, k, v, p, c in (await session.execute(query)).all()
    ]


async def theme_groups(
    session: AsyncSession, survey: Survey, round_ids: Sequence[int]
) -> list[ThemeGroup]:
    """Per-person theme means, summed per unit, audience, unit kind, proxy flag, theme and
    number of valid answers (the half-the-items rule is applied by the caller)."""
    items = [item for item in survey.items if survey.scale_of(item).ordinal]
    if not items:
        return []
    per_answer = _valid_answers(
        round_ids,
        items,
        theme_case(items, Answer.item_id).label("theme"),
        score_case(survey, items, index_score, Answer.item_id, Answer.value).label("score"),
        score_case(survey, items, top2_score, Answer.item_id, Answer.value).label("top2"),
        score_case(survey, items, top_box_score, Answer.item_id, Answer.value).label("top"),
    )
    a = per_answer.c
    per_person = (
        select(
            a.unit_id,
            a.audience,
            a.unit_kind,
            a.proxy,
            a.theme,
            func.count(a.score).label("answered"),
            func.sum(a.score).label("score_sum"),
            func.sum(a.top2).label("top2_sum"),
            func.sum(a.top).label("top_sum"),
        )
        .where(a.score.is_not(None))
        .group_by(a.delivery_id, a.unit_id, a.audience, a.unit_kind, a.proxy, a.theme)
        .subquery("per_person")
    )
    p = per_person.c
    query = select(
        p.unit_id,
        p.audience,
        p.unit_kind,
        p.proxy,
        p.theme,
        p.answered,
        func.count(),
        func.sum(p.score_sum / p.answered),
        func.sum(p.top2_sum / p.answered),
        func.sum(p.top_sum / p.answered),
    ).group_by(p.unit_id, p.audience, p.unit_kind, p.proxy, p.theme, p.answered)
    return [
        ThemeGroup(u, a_, k, bool(x), t, int(n), int(c), float(s), float(t2), float(tb))
        for u, a_, k, x, t, n, c, s, t2, tb in (await session.execute(query)).all()
    ]


async def tils_groups(
    session: AsyncSession, survey: Survey, round_ids: Sequence[int]
) -> list[TilsGroup]:
    """T-ILS sums per person, counted by unit, audience, proxy flag, items answered, sum."""
    items = survey.tils_items
    if not items:
        return []
    per_answer = _valid_answers(
        round_ids,
        items,
        score_case(survey, items, tils_item_score, Answer.item_id, Answer.value).label("s"),
    )
    a = per_answer.c
    per_person = (
        select(
            a.unit_id,
            a.audience,
            a.proxy,
            func.count(a.s).label("answered"),
            func.sum(a.s).label("total"),
        )
        .where(a.s.is_not(None))
        .group_by(a.delivery_id, a.unit_id, a.audience, a.proxy)
        .subquery("per_person")
    )
    p = per_person.c
    query = select(p.unit_id, p.audience, p.proxy, p.answered, p.total, func.count()).group_by(
        p.unit_id, p.audience, p.proxy, p.answered, p.total
    )
    return [
        TilsGroup(u, a_, bool(x), int(n), round(float(t)), int(c))
        for u, a_, x, n, t, c in (await session.execute(query)).all()
    ]


async def delivery_counts(session: AsyncSession, round_ids: Sequence[int]) -> list[DeliveryCount]:
    """Deliveries counted by unit, audience, status, proxy flag and whether they have answers."""
    answered = (
        select(Answer.delivery_id)
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .where(_in_rounds(round_ids))
        .group_by(Answer.delivery_id)
        .subquery("answered")
    )
    per_delivery = (
        select(
            Delivery.unit_id.label("unit_id"),
            Delivery.audience.label("audience"),
            Delivery.status.label("status"),
            Delivery.proxy.label("proxy"),
            case((answered.c.delivery_id.is_(None), 0), else_=1).label("has_answers"),
        )
        .outerjoin(answered, answered.c.delivery_id == Delivery.id)
        .where(_in_rounds(round_ids))
        .subquery("per_delivery")
    )
    d = per_delivery.c
    query = select(d.unit_id, d.audience, d.status, d.proxy, d.has_answers, func.count()).group_by(
        d.unit_id, d.audience, d.status, d.proxy, d.has_answers
    )
    return [
        DeliveryCount(u, a, s, bool(x), bool(h), int(c))
        for u, a, s, x, h, c in (await session.execute(query)).all()
    ]


async def units_of(
    session: AsyncSession, round_ids: Sequence[int]
) -> list[tuple[int, str, str, int]]:
    """(id, name, kind, active citizens) of every unit in the rounds, by name."""
    in_rounds = select(round_units.c.unit_id).where(round_units.c.round_id.in_(list(round_ids)))
    with_deliveries = select(Delivery.unit_id).where(_in_rounds(round_ids))
    citizens = (
        select(Citizen.unit_id, func.count().label("active"))
        .where(Citizen.status == CitizenStatus.ACTIVE)
        .group_by(Citizen.unit_id)
        .subquery("citizens")
    )
    query = (
        select(Unit.id, Unit.name, Unit.kind, func.coalesce(citizens.c.active, 0))
        .outerjoin(citizens, citizens.c.unit_id == Unit.id)
        .where(Unit.id.in_(in_rounds) | Unit.id.in_(with_deliveries))
        .order_by(Unit.name, Unit.id)
    )
    return [(i, n, k, int(c)) for i, n, k, c in (await session.execute(query)).all()]


async def comments_of(
    session: AsyncSession, round_ids: Sequence[int], groups: set[tuple[int, str]]
) -> list[tuple[int, str, str]]:
    """(unit, audience, text) of the comments in the given (unit, audience) groups.

    Sorted by unit, audience and text, never by time, so the order tells nothing about
    who answered when.
    """
    if not groups:
        return []
    units = sorted({unit for unit, _ in groups})
    rows = await session.execute(
        select(Delivery.unit_id, Delivery.audience, Comment.text)
        .join(Delivery, Delivery.id == Comment.delivery_id)
        .where(_in_rounds(round_ids), Delivery.unit_id.in_(units))
    )
    return sorted((u, a, t) for u, a, t in rows.all() if (u, a) in groups and t.strip())
