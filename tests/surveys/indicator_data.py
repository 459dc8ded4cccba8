"""Test data for indicators and exports, built straight with the ORM (no bot, no journey)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Citizen, Comment, Delivery, Round, SurveyVersion, Unit
from surveys.fieldwork.definitions import store_version
from surveys.questionnaire.loader import load_surveys
from surveys.questionnaire.schema import Item, Survey

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def standard() -> Survey:
    return load_surveys()["standard"]


async def unit(
    session: AsyncSession, name: str, *, kind: str = "care_home", citizens: int = 20, moved: int = 0
) -> Unit:
    """A unit with ``citizens`` active citizens (its roll-up weight) and ``moved`` who left."""
    made = Unit(name=name, kind=kind)
    session.add(made)
    await session.flush()
    session.add_all(Citizen(unit_id=made.id, first_name=None) for _ in range(citizens))
    session.add_all(Citizen(unit_id=made.id, status="moved") for _ in range(moved))
    await session.flush()
    return made


def varied_answers(
    survey: Survey, items: Sequence[Item], rng: random.Random
) -> tuple[dict[str, int | str], bool]:
    """One person's answers to ``items``: all of them, or (one in five) the first few
    before breaking off; mostly values, some "Ved ikke" ("x") and skips ("s"). And whether
    they answered every item."""
    stop = rng.randint(1, len(items)) if rng.random() < 0.2 else len(items)
    answers: dict[str, int | str] = {}
    for item in items[:stop]:
        roll = rng.random()
        size = len(survey.scale_of(item).options)
        answers[item.id] = "x" if roll < 0.08 else "s" if roll < 0.12 else rng.randint(1, size)
    return answers, stop == len(items)


async def version(session: AsyncSession, survey: Survey | None = None) -> SurveyVersion:
    return await store_version(session, survey or standard())


async def round_(
    session: AsyncSession,
    units: list[Unit],
    *,
    opens: datetime = T0,
    survey: Survey | None = None,
    audience: str = "both",
) -> Round:
    stored = await version(session, survey)
    made = Round(
        survey_version_id=stored.id,
        audience=audience,
        opens_at=opens,
        closes_at=opens + timedelta(days=14),
        units=units,
    )
    session.add(made)
    await session.flush()
    return made


Answers = Mapping[str, int | str]
"""Item id -> option position, "x" (Ved ikke) or "s" (Spring over)."""


async def person(
    session: AsyncSession,
    round_: Round,
    unit: Unit,
    answers: Answers | None = None,
    *,
    audience: str = "citizen",
    status: str = "completed",
    proxy: bool = False,
    comment: str | None = None,
    survey: Survey | None = None,
) -> Delivery:
    """One invited person and their answers."""
    delivery = Delivery(
        round_id=round_.id,
        unit_id=unit.id,
        audience=audience,
        unit_kind=unit.kind,
        status=status,
        proxy=proxy,
    )
    session.add(delivery)
    await session.flush()
    which = survey or standard()
    for item_id, answer in (answers or {}).items():
        kind = {"x": "dont_know", "s": "skip"}.get(str(answer), "value")
        session.add(
            Answer(
                delivery_id=delivery.id,
                survey_id=which.id,
                survey_version=which.version,
                item_id=item_id,
                kind=kind,
                value=answer if isinstance(answer, int) else None,
            )
        )
    if comment is not None:
        session.add(Comment(delivery_id=delivery.id, text=comment))
    await session.flush()
    return delivery


async def people(
    session: AsyncSession,
    round_: Round,
    unit: Unit,
    count: int,
    answers: Answers | None = None,
    *,
    audience: str = "citizen",
    status: str = "completed",
    comment: str | None = None,
    survey: Survey | None = None,
) -> None:
    """``count`` people with the same answers, inserted in bulk."""
    which = survey or standard()
    ids = (
        (
            await session.execute(
                insert(Delivery).returning(Delivery.id, sort_by_parameter_order=True),
                [
                    {
                        "round_id": round_.id,
                        "unit_id": unit.id,
                        "audience": audience,
                        "unit_kind": unit.kind,
                        "status": status,
                        "proxy": False,
                    }
                    for _ in range(count)
                ],
            )
        )
        .scalars()
        .all()
    )
    rows = [
        {
            "delivery_id": delivery_id,
            "survey_id": which.id,
            "survey_version": which.version,
            "item_id": item_id,
            "kind": {"x": "dont_know", "s": "skip"}.get(str(answer), "value"),
            "value": answer if isinstance(answer, int) else None,
        }
        for delivery_id in ids
        for item_id, answer in (answers or {}).items()
    ]
    if rows:
        await session.execute(insert(Answer), rows)
    if comment is not None:
        await session.execute(insert(Comment), [{"delivery_id": i, "text": comment} for i in ids])


async def bulk(
    session: AsyncSession,
    round_: Round,
    unit: Unit,
    count: int,
    answers: Answers,
    *,
    first_id: int,
    audience: str = "citizen",
) -> None:
    """Many completed deliveries with the same answers, inserted in bulk (fast)."""
    survey = standard()
    await session.execute(
        insert(Delivery),
        [
            {
                "id": first_id + i,
                "round_id": round_.id,
                "unit_id": unit.id,
                "audience": audience,
                "unit_kind": unit.kind,
                "status": "completed",
                "proxy": False,
            }
            for i in range(count)
        ],
    )
    rows = [
        {
            "delivery_id": first_id + i,
            "survey_id": survey.id,
            "survey_version": survey.version,
            "item_id": item_id,
            "kind": "value",
            "value": value,
        }
        for i in range(count)
        for item_id, value in answers.items()
    ]
    for start in range(0, len(rows), 5000):
        await session.execute(insert(Answer), rows[start : start + 5000])
