"""The one upsert helper: INSERT ... ON CONFLICT on both SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def _table(model: type[DeclarativeBase] | Table) -> Table:
    table = model if isinstance(model, Table) else model.__table__
    assert isinstance(table, Table)
    return table


@lru_cache(maxsize=64)
def _upsert_statement(
    table: Table,
    dialect: str,
    conflict: tuple[str, ...],
    update: tuple[str, ...],
) -> Any:
    # Built once per shape and executed with parameters: an answer press upserts every
    # time, and building the statement anew cost more than running it (issue 9).
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # No VALUES clause: the columns come from the parameters' keys at execution.
    statement = insert(table)
    if update:
        return statement.on_conflict_do_update(
            index_elements=list(conflict),
            set_={name: statement.excluded[name] for name in update},
        )
    return statement.on_conflict_do_nothing(index_elements=list(conflict))


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase] | Table,
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Sequence[str] = (),
) -> int:
    """Insert ``values``; on a conflict on ``conflict`` columns update ``update`` ones
    (or do nothing when ``update`` is empty). Returns the number of rows written."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement = _upsert_statement(_table(model), dialect, tuple(conflict), tuple(update))
    result = await session.execute(statement, dict(values))
    return int(getattr(result, "rowcount", 0) or 0)


async def insert_select_ignoring_conflicts(
    session: AsyncSession,
    model: type[DeclarativeBase] | Table,
    columns: Sequence[str],
    select_statement: Any,
    *,
    conflict: Sequence[str],
) -> int:
    """INSERT INTO model (columns) SELECT ..., skipping rows that would conflict."""
    table = _table(model)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .from_select(list(columns), select_statement)
        .on_conflict_do_nothing(index_elements=list(conflict))
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
