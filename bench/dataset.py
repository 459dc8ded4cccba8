"""A generated municipality for the indicator benchmark: units, rounds and answers.

The full shape is the issue's: 100 units, 20 rounds, 1,000,000 answers, all rounds
opened in 2025 (every 18 days), so "a year" covers every answer. Each unit-round gets
the same number of answers (500): people answer the standard survey's questions for
their audience and unit kind, most finish, some break off, some never answer, a few
answer with help (H1) and some leave a comment. Values lean to the positive end by a
per-unit amount, so units differ.

The rows are generated once, round by round, and written to every sink at the same
time: an SQLite file (executemany), a PostgreSQL database (COPY) and the flat CSV
files the pandas reference reads, one folder per selection.
"""

from __future__ import annotations

import csv
import itertools
import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench.common import engine_of
from storage.db import session_factory
from storage.enums import Audience, UnitKind
from storage.models import Citizen, Round, Unit, round_units
from surveys.fieldwork.definitions import store_version
from surveys.questionnaire.loader import load_surveys
from surveys.questionnaire.schema import Item, Survey

FIRST_OPENING = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
ROUND_EVERY = timedelta(days=18)
OPEN_FOR = timedelta(days=14)
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
SEED = 2025

DELIVERY_COLUMNS = (
    "id",
    "round_id",
    "unit_id",
    "audience",
    "unit_kind",
    "status",
    "position",
    "proxy",
    "attempts",
    "reminders_sent",
    "invited_at",
    "sent_at",
    "started_at",
    "completed_at",
    "updated_at",
)
ANSWER_COLUMNS = (
    "id",
    "delivery_id",
    "survey_id",
    "survey_version",
    "item_id",
    "kind",
    "value",
    "answered_at",
)
COMMENT_COLUMNS = ("id", "delivery_id", "text", "created_at")
FLAT_DELIVERY = ("round_id", "delivery_id", "unit_id", "unit_kind", "audience", "status", "proxy")
FLAT_ANSWER = (*FLAT_DELIVERY, "item_id", "kind", "value")
COMMENTS = (
    "Personalet er søde, men maden er ofte kold.",
    "Der kommer for mange forskellige hjælpere.",
    "Tak for god hjælp.",
    "Jeg savner at komme ud.",
)


@dataclass(frozen=True)
class Shape:
    """How big the municipality is."""

    units: int
    rounds: int
    answers: int

    @property
    def per_unit_round(self) -> int:
        return self.answers // (self.units * self.rounds)


FULL = Shape(units=100, rounds=20, answers=1_000_000)
QUICK = Shape(units=20, rounds=4, answers=40_000)


def opening(round_number: int) -> datetime:
    """When round ``round_number`` (1-based) opened."""
    return FIRST_OPENING + ROUND_EVERY * (round_number - 1)


def unit_kind(unit_id: int) -> str:
    return UnitKind.CARE_HOME.value if unit_id % 2 else UnitKind.HOME_CARE.value


def citizens_of(unit_id: int) -> int:
    """Active citizens of a unit: its weight in the municipality's figures (20-79)."""
    return 20 + (unit_id * 37) % 60


@dataclass
class Chunk:
    """One round's rows, ready for every sink."""

    round_id: int
    deliveries: list[tuple[Any, ...]] = field(default_factory=list)
    answers: list[tuple[Any, ...]] = field(default_factory=list)
    comments: list[tuple[Any, ...]] = field(default_factory=list)


class _Answers:
    """Draws answers to one item: "Ved ikke", skips, and values leaning positive."""

    def __init__(self, survey: Survey, item: Item) -> None:
        scale = survey.scale_of(item)
        self.item_id = item.id
        self.size = scale.size
        self.best = scale.best
        self.proxy_item = bool(item.proxy_values)

    def value(self, rng: random.Random, lean: float) -> int:
        if self.proxy_item:  # H1: most answer themselves
            return 1 if rng.random() < 0.7 else rng.randint(2, self.size)
        if self.best == "none":
            return rng.randint(1, self.size)
        rank = 0  # 0 = the best option
        while rank < self.size - 1 and rng.random() > lean:
            rank += 1
        return rank + 1 if self.best == "first" else self.size - rank


@dataclass(frozen=True)
class _Unit:
    id: int
    kind: str
    lean: float  # how strongly its answers lean to the best option


@dataclass
class _Ids:
    """The next row ids; every table's ids start at 1 in a fresh database."""

    delivery: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    answer: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    comment: Iterator[int] = field(default_factory=lambda: itertools.count(1))


def generate(shape: Shape, survey: Survey, seed: int = SEED) -> Iterator[Chunk]:
    """Every round's deliveries, answers and comments, round by round."""
    rng = random.Random(seed)
    asked = {
        (audience.value, kind.value): [
            _Answers(survey, i) for i in survey.items_for(audience, kind)
        ]
        for audience in Audience
        for kind in UnitKind
    }
    units = [_Unit(u, unit_kind(u), 0.35 + 0.4 * rng.random()) for u in range(1, shape.units + 1)]
    ids = _Ids()
    for round_id in range(1, shape.rounds + 1):
        chunk = Chunk(round_id)
        for unit in units:
            quota = shape.per_unit_round
            answering = 0
            while quota > 0:
                audience = "citizen" if rng.random() < 0.55 else "relative"
                items = asked[(audience, unit.kind)]
                count = len(items) if rng.random() < 0.85 else rng.randint(1, len(items) - 1)
                count = min(count, quota)
                quota -= count
                answering += 1
                _person(chunk, rng, ids, survey, unit, audience, items[:count], len(items))
            for _ in range(answering // 3):  # invited, never answered (or could not be)
                audience = "citizen" if rng.random() < 0.55 else "relative"
                status = _not_answered(rng.random())
                chunk.deliveries.append(
                    _delivery(
                        (next(ids.delivery), round_id, unit.id),
                        audience,
                        unit.kind,
                        status,
                        False,
                        opening(round_id),
                        None,
                    )
                )
        yield chunk


def _person(
    chunk: Chunk,
    rng: random.Random,
    ids: _Ids,
    survey: Survey,
    unit: _Unit,
    audience: str,
    answered: list[_Answers],
    asked: int,
) -> None:
    """One person who answered ``answered`` of the ``asked`` questions put to them."""
    delivery_id = next(ids.delivery)
    opened = opening(chunk.round_id)
    when = opened + timedelta(minutes=rng.randint(10, 20000))
    proxy = False
    for answers in answered:
        roll = rng.random()
        if roll < 0.05:
            kind_of, value = "dont_know", None
        elif roll < 0.08:
            kind_of, value = "skip", None
        else:
            kind_of, value = "value", answers.value(rng, unit.lean)
            proxy = proxy or (answers.proxy_item and value != 1)
        row = (next(ids.answer), delivery_id, survey.id, survey.version, answers.item_id)
        chunk.answers.append((*row, kind_of, value, when))
    finished = len(answered) == asked
    status = "completed" if finished else "started"
    chunk.deliveries.append(
        _delivery(
            (delivery_id, chunk.round_id, unit.id), audience, unit.kind, status, proxy, opened, when
        )
    )
    if finished and rng.random() < 0.1:
        comment = (next(ids.comment), delivery_id, rng.choice(COMMENTS))
        chunk.comments.append((*comment, when + timedelta(minutes=1)))


def _not_answered(roll: float) -> str:
    """Mostly invited and silent; a few failed, cancelled (left) or withdrawn."""
    if roll < 0.05:
        return "failed"
    if roll < 0.08:
        return "cancelled"
    if roll < 0.10:
        return "withdrawn"
    return "sent"


def _delivery(
    ids: tuple[int, int, int],
    audience: str,
    kind: str,
    status: str,
    proxy: bool,
    opened: datetime,
    answered: datetime | None,
) -> tuple[Any, ...]:
    """A deliveries row in DELIVERY_COLUMNS order; ``ids`` are delivery, round, unit."""
    delivery_id, round_id, unit_id = ids
    sent = opened + timedelta(seconds=1) if status != "cancelled" else None
    completed = answered if status == "completed" else None
    moments = (opened, sent, answered, completed, answered or opened)
    return (delivery_id, round_id, unit_id, audience, kind, status, 0, proxy, 1, 0, *moments)


# ------------------------------------------------------------------ the sinks


class Sink(Protocol):
    async def write(self, chunk: Chunk) -> None: ...

    async def close(self) -> None: ...


async def write_base(database_url: str, shape: Shape, survey: Survey) -> None:
    """Units, their citizens, the survey version and the rounds, through SQLAlchemy."""
    async with engine_of(database_url) as engine, session_factory(engine)() as session:
        version = await store_version(session, survey)
        await session.execute(
            insert(Unit),
            [
                {"id": u, "name": f"Enhed {u:03d}", "kind": unit_kind(u)}
                for u in range(1, shape.units + 1)
            ],
        )
        await session.execute(
            insert(Citizen),
            [
                {"unit_id": u, "first_name": None, "status": "active"}
                for u in range(1, shape.units + 1)
                for _ in range(citizens_of(u))
            ]
            + [{"unit_id": u, "status": "moved"} for u in range(1, shape.units + 1, 7)],
        )
        await session.execute(
            insert(Round),
            [
                {
                    "id": r,
                    "survey_version_id": version.id,
                    "audience": "both",
                    "opens_at": opening(r),
                    "closes_at": opening(r) + OPEN_FOR,
                    "closed_at": opening(r) + OPEN_FOR,
                    "reminder_days": [3, 7],
                }
                for r in range(1, shape.rounds + 1)
            ],
        )
        await session.execute(
            insert(round_units),
            [
                {"round_id": r, "unit_id": u}
                for r in range(1, shape.rounds + 1)
                for u in range(1, shape.units + 1)
            ],
        )
        await session.commit()


def _sqlite_time(moment: datetime | None) -> str | None:
    # As SQLAlchemy stores an aware UTC datetime on SQLite (storage.types.UTCDateTime).
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


class SqliteSink:
    """executemany in one transaction through the standard library's driver."""

    def __init__(self, database_url: str) -> None:
        path = make_url(database_url).database
        assert path is not None
        self.connection = sqlite3.connect(path)

    async def write(self, chunk: Chunk) -> None:
        times = [10, 11, 12, 13, 14]
        self.connection.executemany(
            _insert("deliveries", DELIVERY_COLUMNS),
            (
                tuple(_sqlite_time(v) if i in times else v for i, v in enumerate(row))
                for row in chunk.deliveries
            ),
        )
        self.connection.executemany(
            _insert("answers", ANSWER_COLUMNS),
            ((*row[:7], _sqlite_time(row[7])) for row in chunk.answers),
        )
        self.connection.executemany(
            _insert("comments", COMMENT_COLUMNS),
            ((*row[:3], _sqlite_time(row[3])) for row in chunk.comments),
        )

    async def close(self) -> None:
        self.connection.commit()
        self.connection.close()


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


class PostgresSink:
    """COPY through asyncpg, then the sequences moved on and the statistics gathered
    (as autovacuum would soon do in production)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, database_url: str) -> PostgresSink:
        url = make_url(database_url)
        connection = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        return cls(connection)

    async def write(self, chunk: Chunk) -> None:
        for table, columns, rows in (
            ("deliveries", DELIVERY_COLUMNS, chunk.deliveries),
            ("answers", ANSWER_COLUMNS, chunk.answers),
            ("comments", COMMENT_COLUMNS, chunk.comments),
        ):
            await self.connection.copy_records_to_table(table, records=rows, columns=columns)

    async def close(self) -> None:
        for table in ("deliveries", "answers", "comments", "units", "citizens", "rounds"):
            await self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        await self.connection.execute("VACUUM ANALYZE")
        await self.connection.close()


@dataclass
class _Flat:
    rounds: frozenset[int]
    answers: IO[str]
    deliveries: IO[str]


class CsvSink:
    """The flat CSV files of the pandas reference: for each selection a folder with
    answers.csv (one row per answer, with its delivery's unit, audience, status and
    proxy flag) and deliveries.csv (for response rates), plus units.csv."""

    def __init__(self, folder: Path, selections: dict[str, frozenset[int]], shape: Shape) -> None:
        self.flats: list[tuple[_Flat, Any, Any]] = []
        for name, rounds in selections.items():
            (folder / name).mkdir(parents=True, exist_ok=True)
            flat = _Flat(
                rounds,
                (folder / name / "answers.csv").open("w", newline="", encoding="utf-8"),
                (folder / name / "deliveries.csv").open("w", newline="", encoding="utf-8"),
            )
            answers, deliveries = csv.writer(flat.answers), csv.writer(flat.deliveries)
            answers.writerow(FLAT_ANSWER)
            deliveries.writerow(FLAT_DELIVERY)
            self.flats.append((flat, answers, deliveries))
        with (folder / "units.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(("unit_id", "name", "kind", "citizens"))
            for u in range(1, shape.units + 1):
                writer.writerow((u, f"Enhed {u:03d}", unit_kind(u), citizens_of(u)))

    async def write(self, chunk: Chunk) -> None:
        wanted = [(a, d) for flat, a, d in self.flats if chunk.round_id in flat.rounds]
        if not wanted:
            return
        flat_deliveries = {
            row[0]: (row[1], row[0], row[2], row[4], row[3], row[5], int(row[7]))
            for row in chunk.deliveries
        }
        answer_rows = [
            flat_deliveries[row[1]] + (row[4], row[5], "" if row[6] is None else row[6])
            for row in chunk.answers
        ]
        for answers, deliveries in wanted:
            answers.writerows(answer_rows)
            deliveries.writerows(flat_deliveries.values())

    async def close(self) -> None:
        for flat, _, _ in self.flats:
            flat.answers.close()
            flat.deliveries.close()


def standard() -> Survey:
    return load_surveys()["standard"]


async def build(
    shape: Shape,
    database_urls: dict[str, str],
    csv_folder: Path,
    selections: dict[str, frozenset[int]],
) -> dict[str, int]:
    """Generate the municipality into every database and the CSV folders; returns the
    number of rows per table."""
    survey = standard()
    for url in database_urls.values():
        await write_base(url, shape, survey)
    sinks: list[Sink] = [CsvSink(csv_folder, selections, shape)]
    for name, url in database_urls.items():
        sinks.append(SqliteSink(url) if name == "sqlite" else await PostgresSink.open(url))
    counts = {"deliveries": 0, "answers": 0, "comments": 0}
    try:
        for chunk in generate(shape, survey):
            counts["deliveries"] += len(chunk.deliveries)
            counts["answers"] += len(chunk.answers)
            counts["comments"] += len(chunk.comments)
            for sink in sinks:
                await sink.write(chunk)
    finally:
        for sink in sinks:
            await sink.close()
    return counts
