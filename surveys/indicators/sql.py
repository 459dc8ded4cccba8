"""The database side of the indicators: GROUP BY queries that return small tables.

No answer row ever reaches Python. The answers are counted into groups by
``surveys.fieldwork.tallies`` (``answer_groups``, ``delivery_groups``: the CASE
expressions there are built with the very functions of ``surveys.questionnaire.scoring``,
so the SQL and the Python rules cannot drift apart); the index and top-box scores are
applied here in Python to each (item, value) row. A closed round's groups were counted
once, when it closed, into ``round_tallies``, so a report over a year of closed rounds
sums those instead of reading every answer again.
Each answer also counts in the channel it came by (Telegram or web), beside all channels:
the same query groups by the channel too, with each person's theme and T-ILS figures
over their answers in that channel (``surveys.fieldwork.tallies.CHANNEL_COLUMNS``).
Every query returns at most (units x audiences x items x options x items per theme)
rows, however many answers there are. Works the same on SQLite and PostgreSQL:
constants are typed bind parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Select

from storage.enums import AnswerKind, Audience, Channel, UnitKind
from storage.models import (
    Citizen,
    CitizenStatus,
    Comment,
    Delivery,
    DeliveryStatus,
    RoundDeliveryTally,
    RoundTally,
    Unit,
    round_units,
)
from surveys.fieldwork.tallies import (
    CHANNEL_COLUMNS,
    GROUP_COLUMNS,
    answer_groups,
    delivery_groups,
    in_rounds,
    scored_positions,
)
from surveys.questionnaire.schema import Survey
from surveys.questionnaire.scoring import index_score, is_top2, is_top_box

NOT_INVITED = (DeliveryStatus.CANCELLED.value,)
"""Delivery statuses of people who turned out not to be eligible before they were
invited (the citizen moved or died): left out of the response-rate denominator."""
COMPLETED = DeliveryStatus.COMPLETED.value
STARTED = DeliveryStatus.STARTED.value

# ------------------------------------------------------------------ raw tables


@dataclass(frozen=True)
class ItemCount:
    """Answers of one kind and value to one item in one unit and audience."""

    unit_id: int
    audience: Audience
    item_id: str
    kind: AnswerKind
    value: int | None
    proxy: bool
    count: int
    channel: Channel | None = None
    """The channel the answers came by; None: all channels."""


@dataclass(frozen=True)
class ThemeGroup:
    """People of one unit, audience, unit kind and proxy flag who answered ``answered``
    of a theme's items, with the sums of their per-person means."""

    unit_id: int
    audience: Audience
    unit_kind: UnitKind
    proxy: bool
    theme: str
    answered: int
    people: int
    index_sum: float
    top2_sum: float
    top_sum: float
    channel: Channel | None = None
    """The people's answers in this channel alone; None: in all channels."""


@dataclass(frozen=True)
class TilsGroup:
    """People of one unit and audience with ``answered`` T-ILS items summing to ``total``."""

    unit_id: int
    audience: Audience
    proxy: bool
    answered: int
    total: int
    people: int
    channel: Channel | None = None
    """The people's answers in this channel alone; None: in all channels."""


@dataclass(frozen=True)
class DeliveryCount:
    """Deliveries of one unit, audience, status and proxy flag, with or without answers,
    and the channel a completed one was completed by (None before it is completed)."""

    unit_id: int
    audience: Audience
    status: DeliveryStatus
    proxy: bool
    has_answers: bool
    count: int
    channel: Channel | None = None


@dataclass(frozen=True)
class AnswerTables:
    """The three tables built from one pass over the answers of some rounds: each for all
    channels (``channel`` None) and for each channel the answers came by."""

    items: list[ItemCount]
    themes: list[ThemeGroup]
    tils: list[TilsGroup]
    channels: tuple[Channel, ...] = ()
    """The channels any of the answers came by, in Channel's order."""


def _tallied_groups(round_ids: Sequence[int]) -> Select[Any]:
    """The groups of tallied rounds, summed over the rounds: the rows ``answer_groups``
    gives for them, from their tallies."""
    columns = [getattr(RoundTally, name) for name in (*GROUP_COLUMNS, *CHANNEL_COLUMNS)]
    return (
        select(*columns, func.sum(RoundTally.count))
        .where(RoundTally.round_id.in_(list(round_ids)))
        .group_by(*columns)
    )


async def answer_tables(
    session: AsyncSession,
    survey: Survey,
    round_ids: Sequence[int],
    tallied: Collection[int] = (),
) -> AnswerTables:
    """Item counts, per-person theme figures and T-ILS sums of the rounds, from one query
    over the answers of the rounds not in ``tallied`` and one over the tallies of those
    that are (the half-the-items and all-three-items rules are the caller's).

    Scores come from ``surveys.questionnaire.scoring`` in Python, once per (item, value), never per
    answer: a group of people who each answered ``answered`` of a theme's items holds
    ``answered`` rows of each of them, so its people are its answers / ``answered``, and
    the sum of their means is the sum of its scores / ``answered``.
    """
    scores: dict[tuple[str, int], tuple[str, float, float, float]] = {}
    for item in survey.items:
        scale = survey.scale_of(item)
        for position in scored_positions(scale):
            scores[(item.id, position)] = (
                item.theme.value,
                index_score(scale, position) or 0.0,
                float(bool(is_top2(scale, position))),
                float(bool(is_top_box(scale, position))),
            )
    # Keys end with the channel: None for all channels, else the channel's value.
    items: dict[tuple[int, Audience, str, AnswerKind, int | None, bool, str | None], int] = (
        defaultdict(int)
    )
    # Per group of people, how many answers of each (item, value): whole numbers, so the
    # sums below come out the same whatever order, and however split, the rows arrive.
    themes: dict[
        tuple[int, Audience, UnitKind, bool, str, int, str | None], dict[tuple[str, int], int]
    ] = {}
    tils: dict[tuple[int, Audience, bool, int, str | None], int] = defaultdict(int)
    channels: set[str] = set()
    counted = [r for r in round_ids if r in tallied]
    live = [r for r in round_ids if r not in tallied]
    queries = ([answer_groups(survey, live, by_channel=True)] if live else []) + (
        [_tallied_groups(counted)] if counted else []
    )
    # On the session's connection: Core rows, without the ORM's result processing.
    connection = await session.connection()
    for query in queries:
        rows = await connection.execute(query)
        for row in rows:
            unit, audience, unit_kind, proxy, item_id, kind, value, answered, total = row[:9]
            channel, own_answered, own_total, n = row[9:]
            count = int(n)
            channels.add(channel)
            score = scores.get((item_id, value))
            for where, person_answered, person_total in (
                (None, answered, total),
                (channel, own_answered, own_total),
            ):
                items[(unit, audience, item_id, kind, value, bool(proxy), where)] += count
                if score is not None and person_answered:
                    group = (unit, audience, unit_kind, bool(proxy), score[0], int(person_answered))
                    answers = themes.setdefault((*group, where), defaultdict(int))
                    answers[(item_id, value)] += count
                if person_total is not None:
                    tils[(unit, audience, bool(proxy), round(float(person_total)), where)] += count
    needed = len(survey.tils_items)
    groups = []
    for key, answers in sorted(themes.items(), key=lambda pair: _channel_last(pair[0])):
        answered = key[5]
        n = index = top2 = top = 0.0
        for item_value in sorted(answers):
            count = answers[item_value]
            _, item_index, item_top2, item_top = scores[item_value]
            n += count
            index += count * item_index
            top2 += count * item_top2
            top += count * item_top
        groups.append(
            ThemeGroup(
                *key[:6],
                round(n / answered),
                index / answered,
                top2 / answered,
                top / answered,
                _channel(key[6]),
            )
        )
    # In a fixed order, so the caller's float sums do not depend on the rows' order.
    return AnswerTables(
        items=[
            ItemCount(*key[:6], items[key], _channel(key[6]))
            for key in sorted(items, key=_item_order)
        ],
        themes=groups,
        tils=[
            TilsGroup(*key[:3], needed, key[3], tils[key], _channel(key[4]))
            for key in sorted(tils, key=_channel_last)
        ],
        channels=tuple(c for c in Channel if c.value in channels),
    )


def _channel(value: str | None) -> Channel | None:
    return None if value is None else Channel(value)


def _channel_last(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sort key: all channels (None) first, then by channel, then the rest."""
    *rest, channel = key
    return (channel is not None, channel or "", *rest)


def _item_order(
    key: tuple[int, Audience, str, AnswerKind, int | None, bool, str | None],
) -> tuple[object, ...]:
    unit, audience, item_id, kind, value, proxy, channel = key
    return (
        channel is not None,
        channel or "",
        unit,
        audience,
        item_id,
        kind,
        -1 if value is None else value,
        proxy,
    )


def _tallied_deliveries(round_ids: Sequence[int]) -> Select[Any]:
    t = RoundDeliveryTally
    columns: list[Any] = [t.unit_id, t.audience, t.status, t.proxy, t.has_answers, t.channel]
    return (
        select(*columns, func.sum(t.count))
        .where(t.round_id.in_(list(round_ids)))
        .group_by(*columns)
    )


async def delivery_counts(
    session: AsyncSession, round_ids: Sequence[int], tallied: Collection[int] = ()
) -> list[DeliveryCount]:
    """Deliveries counted by unit, audience, status, proxy flag, whether they have
    answers and the channel a completed one was completed by: from the deliveries of the
    rounds not in ``tallied``, and from the tallies of those that are."""
    counted = [r for r in round_ids if r in tallied]
    live = [r for r in round_ids if r not in tallied]
    queries = ([delivery_groups(live, by_channel=True)] if live else []) + (
        [_tallied_deliveries(counted)] if counted else []
    )
    connection = await session.connection()
    return [
        DeliveryCount(u, a, s, bool(x), bool(h), int(c), _channel(channel))
        for query in queries
        for u, a, s, x, h, channel, c in (await connection.execute(query)).all()
    ]


async def units_of(
    session: AsyncSession, round_ids: Sequence[int]
) -> list[tuple[int, str, UnitKind, int]]:
    """(id, name, kind, active citizens) of every unit in the rounds, by name."""
    listed = select(round_units.c.unit_id).where(round_units.c.round_id.in_(list(round_ids)))
    with_deliveries = select(Delivery.unit_id).where(in_rounds(round_ids))
    # A round past the retention period has no deliveries left, only its counts.
    counted = select(RoundDeliveryTally.unit_id).where(
        RoundDeliveryTally.round_id.in_(list(round_ids))
    )
    citizens = (
        select(Citizen.unit_id, func.count().label("active"))
        .where(Citizen.status == CitizenStatus.ACTIVE)
        .group_by(Citizen.unit_id)
        .subquery("citizens")
    )
    query = (
        select(Unit.id, Unit.name, Unit.kind, func.coalesce(citizens.c.active, 0))
        .outerjoin(citizens, citizens.c.unit_id == Unit.id)
        .where(Unit.id.in_(listed) | Unit.id.in_(with_deliveries) | Unit.id.in_(counted))
        .order_by(Unit.name, Unit.id)
    )
    return [(i, n, k, int(c)) for i, n, k, c in (await session.execute(query)).all()]


async def comments_of(
    session: AsyncSession, round_ids: Sequence[int], groups: set[tuple[int, Audience]]
) -> list[tuple[int, Audience, str]]:
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
        .where(in_rounds(round_ids), Delivery.unit_id.in_(units))
    )
    return sorted((u, a, t) for u, a, t in rows.all() if (u, a) in groups and t.strip())
