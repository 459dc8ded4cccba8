"""A round's answers and deliveries counted into groups: the queries the reports read, and the
tallies a closed round is counted into once.

Which answers count (scored in a theme, T-ILS) and the T-ILS scores are CASE expressions
built from the survey definition with the very functions of
``surveys.questionnaire.scoring``, so the SQL and the Python rules cannot drift apart. A
closed round's groups are counted once, when it closes, into ``round_tallies``
(``tally_round``), so a report over a year of closed rounds (``surveys.indicators.sql``)
sums those instead of reading every answer again. Counting is a fieldwork step: the
reports import it from here, never the other way round. Works the same on SQLite and
PostgreSQL: constants are typed bind parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    SQLColumnExpression,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from storage.enums import Channel
from storage.models import Answer, AnswerKind, Delivery, Round, RoundDeliveryTally, RoundTally
from surveys.questionnaire.schema import Item, Scale, Survey
from surveys.questionnaire.scoring import index_score, tils_score

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


def scored_positions(scale: Scale) -> list[int]:
    """The positions of ``scale`` that get an index score (none on a nominal scale)."""
    return [p for p in range(1, scale.size + 1) if index_score(scale, p) is not None]


@dataclass(frozen=True)
class Digits:
    """A person's answer counts packed into one integer, so one SUM per person counts
    their scored answers in every theme, and their T-ILS answers, at once.

    Each theme, and T-ILS, is a digit in base ``base`` (larger than any count can be):
    a scored answer adds its theme's weight (``base ** i``), a T-ILS answer adds
    ``tils`` too, and digit i of the sum is then the count of theme i.
    """

    base: int
    themes: dict[str, int]
    tils: int

    @classmethod
    def of(cls, survey: Survey) -> Digits:
        """The digits of ``survey``'s themes (of its ordinal items) and of T-ILS."""
        per_theme: dict[str, int] = defaultdict(int)
        for item in survey.items:
            if survey.scale_of(item).ordinal:
                per_theme[item.theme.value] += 1
        base = max([*per_theme.values(), len(survey.tils_items)]) + 1
        themes = {theme: base**i for i, theme in enumerate(sorted(per_theme))}
        return cls(base, themes, base ** len(themes))

    def count(
        self, counts: ColumnElement[Any], weight: int | ColumnElement[int | None]
    ) -> ColumnElement[Any]:
        """The digit of weight ``weight`` (a number, or a column of them) in a SQL sum of
        weights ``counts``; NULL where ``weight`` is NULL."""
        return (counts // weight) % self.base


def count_weight_case(
    survey: Survey,
    item_column: SQLColumnExpression[str],
    kind_column: SQLColumnExpression[str],
    value_column: SQLColumnExpression[int | None],
    *,
    with_tils: bool,
) -> ColumnElement[int | None]:
    """A SQL CASE giving what an answer adds to its person's packed counts (``Digits``):
    its theme's weight if it has an index score, plus the T-ILS weight for an answer to
    a T-ILS item if ``with_tils``; NULL for an answer without a score.

    An answer has a score when it is a value to an ordinal item at a position
    ``index_score`` scores: the answers a person's theme mean is taken over, so the
    theme's digit counts how many of its items the person answered. T-ILS items are
    ordinal (the schema insists), so their valid answers are exactly their scored ones.
    """
    digits = Digits.of(survey)
    groups: dict[int, list[Item]] = defaultdict(list)
    for item in survey.items:
        scale = survey.scale_of(item)
        if scale.ordinal:
            weight = digits.themes[item.theme.value] + (
                digits.tils if with_tils and item.tils else 0
            )
            groups[weight].append(item)
    branches = []
    for weight, items in groups.items():
        by_positions: dict[tuple[int, ...], list[str]] = defaultdict(list)
        for item in items:
            by_positions[tuple(scored_positions(survey.scale_of(item)))].append(item.id)
        for positions, item_ids in by_positions.items():
            if positions:
                branches.append(
                    (
                        (kind_column == AnswerKind.VALUE.value)
                        & item_column.in_(item_ids)
                        & value_column.in_(positions),
                        literal(weight, Integer()),
                    )
                )
    if not branches:
        return literal(None, Integer())
    return case(*branches, else_=null())


def tils_item_score(scale: Scale, value: int) -> float | None:
    """The T-ILS score (1-3) of one answer."""
    return float(tils_score(scale, value))


def tils_case(
    survey: Survey,
    item_column: SQLColumnExpression[str],
    kind_column: SQLColumnExpression[str],
    value_column: SQLColumnExpression[int | None],
) -> ColumnElement[float | None]:
    """A SQL CASE giving the T-ILS score of an answer (a value to a T-ILS item), else NULL."""
    return case(
        (
            kind_column == AnswerKind.VALUE.value,
            score_case(survey, survey.tils_items, tils_item_score, item_column, value_column),
        ),
        else_=null(),
    )


def in_rounds(round_ids: Sequence[int]) -> ColumnElement[bool]:
    """SQL condition: the delivery belongs to one of the rounds."""
    return Delivery.round_id.in_(list(round_ids))


GROUP_COLUMNS = (
    "unit_id",
    "audience",
    "unit_kind",
    "proxy",
    "item_id",
    "kind",
    "value",
    "answered",
    "tils_total",
)
"""The columns ``answer_groups`` groups by, in order, as named in ``round_tallies``."""

CHANNEL_COLUMNS = ("channel", "channel_answered", "channel_tils_total")
"""The columns ``answer_groups(by_channel=True)`` adds after ``GROUP_COLUMNS``, as named in
``round_tallies``: the answer's channel, and its person's ``answered`` and ``tils_total``
counted over their answers in that channel alone."""


def answer_groups(
    survey: Survey, round_ids: Sequence[int], *, by_channel: bool = False
) -> Select[Any]:
    """Every answer of the rounds counted by its delivery's dimensions, its item, kind
    and value, and two figures of its person: how many of the theme's items they
    answered (``answered``, NULL for an answer without a score) and, on the answer to
    the first T-ILS item of a person who answered all of them, their T-ILS sum
    (``tils_total``, NULL elsewhere). ``by_channel`` splits the groups by the answers'
    channel too, with the same two figures of the person counted over their answers in
    that channel alone (``CHANNEL_COLUMNS``, before the count), as ``round_tallies`` keeps
    them: a person who answered some items in each channel has a theme score in each.

    The per-channel figures come from the same aggregate: the web answers' packed counts
    are summed beside all of them, and the Telegram ones are the difference (a digit of
    the web sum is never larger than the same digit of the whole, so nothing borrows).

    The person's figures come from one aggregate per delivery joined back to its
    answers, not from window functions: both databases stream that GROUP BY along the
    answers' (delivery, item) index, where a window buffers every answer and, measured
    on the benchmark's million answers, took several times as long on SQLite and, as it
    never runs in parallel, longer on PostgreSQL too.
    """
    digits = Digits.of(survey)
    tils = tils_case(survey, Answer.item_id, Answer.kind, Answer.value)
    weights = count_weight_case(survey, Answer.item_id, Answer.kind, Answer.value, with_tils=True)
    sums: list[Any] = [
        Answer.delivery_id.label("delivery_id"),
        func.sum(weights).label("counts"),
        func.sum(tils).label("tils_total"),
    ]
    is_web = Answer.channel == Channel.WEB.value
    if by_channel:
        sums += [
            func.sum(case((is_web, weights), else_=null())).label("web_counts"),
            func.sum(case((is_web, tils), else_=null())).label("web_tils"),
        ]
    person = (
        select(*sums)
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .where(in_rounds(round_ids))
        .group_by(Answer.delivery_id)
        .subquery("person")
    )
    p = person.c
    weight = count_weight_case(survey, Answer.item_id, Answer.kind, Answer.value, with_tils=False)
    answered = digits.count(p.counts, weight)  # NULL where the answer has no score
    tils_total: ColumnElement[Any] = literal(None, Integer())
    if survey.tils_items:
        complete = digits.count(p.counts, digits.tils) == len(survey.tils_items)
        tils_total = case(
            ((Answer.item_id == survey.tils_items[0].id) & complete, p.tils_total),
            else_=null(),
        )
    columns: tuple[Any, ...] = (
        Delivery.unit_id.label("unit_id"),
        Delivery.audience.label("audience"),
        Delivery.unit_kind.label("unit_kind"),
        Delivery.proxy.label("proxy"),
        Answer.item_id.label("item_id"),
        Answer.kind.label("kind"),
        Answer.value.label("value"),
        answered.label("answered"),
        tils_total.label("tils_total"),
    )
    if by_channel:
        web_counts = func.coalesce(p.web_counts, 0)
        own_counts = case((is_web, web_counts), else_=p.counts - web_counts)
        channel_tils: ColumnElement[Any] = literal(None, Integer())
        if survey.tils_items:
            own_tils = case(
                (is_web, p.web_tils), else_=p.tils_total - func.coalesce(p.web_tils, 0.0)
            )
            complete_here = digits.count(own_counts, digits.tils) == len(survey.tils_items)
            channel_tils = case(
                ((Answer.item_id == survey.tils_items[0].id) & complete_here, own_tils),
                else_=null(),
            )
        columns = (
            *columns,
            Answer.channel.label("channel"),
            digits.count(own_counts, weight).label("channel_answered"),
            channel_tils.label("channel_tils_total"),
        )
    return (
        select(*columns, func.count().label("count"))
        .join(Delivery, Delivery.id == Answer.delivery_id)
        .join(person, p.delivery_id == Answer.delivery_id)
        .where(in_rounds(round_ids))
        .group_by(*columns)
    )


async def tallied_rounds(
    session: AsyncSession, round_ids: Sequence[int], survey_version_id: int
) -> set[int]:
    """Which of the rounds have a tally counted with this survey version."""
    rows = await session.scalars(
        select(Round.id).where(
            Round.id.in_(list(round_ids)),
            Round.tallied_at.is_not(None),
            Round.survey_version_id == survey_version_id,
        )
    )
    return set(rows)


async def tally_round(session: AsyncSession, survey: Survey, round_id: int, now: datetime) -> None:
    """Count a closed round's answers into ``round_tallies`` and its deliveries into
    ``round_delivery_tallies`` (again, if it had a tally).

    ``survey`` is the round's own version. First the round's deliveries are locked for
    share: a press that read the round as open a moment before it closed holds its
    delivery for update until its answer is stored, so the count waits for it, and a
    deletion of someone's data waits for the count (PostgreSQL; SQLite has one writer).
    """
    await session.execute(
        select(func.count()).select_from(
            select(Delivery.id)
            .where(Delivery.round_id == round_id)
            .with_for_update(read=True)
            .subquery()
        )
    )
    await session.execute(delete(RoundTally).where(RoundTally.round_id == round_id))
    await session.execute(delete(RoundDeliveryTally).where(RoundDeliveryTally.round_id == round_id))
    groups = answer_groups(survey, [round_id], by_channel=True).subquery()
    await session.execute(
        insert(RoundTally).from_select(
            ["round_id", *GROUP_COLUMNS, *CHANNEL_COLUMNS, "count"],
            select(literal(round_id, Integer()), *groups.c),
        )
    )
    d = delivery_groups([round_id], by_channel=True).subquery()
    await session.execute(
        insert(RoundDeliveryTally).from_select(
            [
                "round_id",
                "unit_id",
                "audience",
                "status",
                "proxy",
                "has_answers",
                "channel",
                "count",
            ],
            select(
                literal(round_id, Integer()),
                d.c.unit_id,
                d.c.audience,
                d.c.status,
                d.c.proxy,
                d.c.has_answers == 1,
                d.c.channel,
                d.c.count,
            ),
        )
    )
    await session.execute(
        update(Round)
        .where(Round.id == round_id)
        .values(tallied_at=now)
        .execution_options(synchronize_session=False)
    )


async def forget_tallies(session: AsyncSession, round_ids: Sequence[int]) -> None:
    """Drop the tallies of rounds whose answers or deliveries changed; reports count them from the
    answers until the housekeeping job tallies them again.

    A round whose deliveries the retention purge deleted keeps its tally whatever is
    asked: it is all that is left of the round, and counting it again would give nothing.
    """
    ids = list(
        await session.scalars(
            select(Delivery.round_id).where(Delivery.round_id.in_(list(round_ids))).distinct()
        )
    )
    if not ids:
        return
    await session.execute(
        update(Round)
        .where(Round.id.in_(ids), Round.tallied_at.is_not(None))
        .values(tallied_at=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(delete(RoundTally).where(RoundTally.round_id.in_(ids)))
    await session.execute(delete(RoundDeliveryTally).where(RoundDeliveryTally.round_id.in_(ids)))


async def purged_rounds(session: AsyncSession, round_ids: Sequence[int]) -> tuple[int, ...]:
    """Which of the rounds the retention purge emptied: counted deliveries, none left."""
    counted = select(RoundDeliveryTally.round_id).where(
        RoundDeliveryTally.round_id.in_(list(round_ids))
    )
    left = select(Delivery.round_id).where(Delivery.round_id.in_(list(round_ids)))
    rows = await session.scalars(
        select(Round.id).where(Round.id.in_(counted), Round.id.not_in(left)).order_by(Round.id)
    )
    return tuple(rows)


def delivery_groups(round_ids: Sequence[int], *, by_channel: bool = False) -> Select[Any]:
    """Deliveries of the rounds by unit, audience, status, proxy flag and whether they
    have answers (``has_answers`` 1 or 0), with their count; ``by_channel``: and by the
    channel a delivery was completed by (before the count)."""
    # EXISTS probes the answers' (delivery, item) index once per delivery; it reads no
    # answer row, where grouping the answers by delivery read all of them.
    has_answers = case(
        (select(Answer.id).where(Answer.delivery_id == Delivery.id).exists(), 1), else_=0
    ).label("has_answers")
    per_delivery = (
        select(
            Delivery.unit_id.label("unit_id"),
            Delivery.audience.label("audience"),
            Delivery.status.label("status"),
            Delivery.proxy.label("proxy"),
            has_answers,
            Delivery.channel.label("channel"),
        )
        .where(in_rounds(round_ids))
        .subquery("per_delivery")
    )
    d = per_delivery.c
    columns: tuple[Any, ...] = (d.unit_id, d.audience, d.status, d.proxy, d.has_answers)
    if by_channel:
        columns = (*columns, d.channel)
    return select(*columns, func.count().label("count")).group_by(*columns)
