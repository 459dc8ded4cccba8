"""The stairway: each migration, one case each, runs up, down and up again on SQLite and
PostgreSQL, and its way down leaves the schema exactly as it found it.

The revisions come from Alembic's script directory, so a new migration gets its case
without anyone writing it down here.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import alembic_config, downgrade, upgrade

REVISIONS: list[Script] = list(
    reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
)


def _below(revision: Script) -> str:
    """The revision a migration starts from ("base" for the first)."""
    down = revision.down_revision
    assert not isinstance(down, tuple | list), "no merge migrations expected"
    return down or "base"


def _schema(connection: Connection) -> dict[str, Any]:
    """Every table's columns, indexes, keys and constraints, as the database reports them
    (Alembic's own bookkeeping table aside: it stays once made)."""
    inspector = inspect(connection)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "primary": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
        }
        for table in sorted(inspector.get_table_names())
        if table != "alembic_version"
    }


def _current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def _state(engine: AsyncEngine) -> tuple[set[str], dict[str, Any]]:
    async with engine.connect() as connection:
        return await connection.run_sync(_current), await connection.run_sync(_schema)


def test_the_stairway_has_every_migration_from_base_to_head() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(REVISIONS) >= 6
    assert REVISIONS[0].down_revision is None
    assert [REVISIONS[-1].revision] == list(scripts.get_heads())
    for lower, upper in itertools.pairwise(REVISIONS):
        assert upper.down_revision == lower.revision


@pytest.mark.parametrize("revision", REVISIONS, ids=[r.revision for r in REVISIONS])
async def test_migration_runs_up_down_and_up_again(database_url: str, revision: Script) -> None:
    below = _below(revision)
    engine = create_engine(database_url)
    try:
        if below != "base":
            await upgrade(engine, below)
        before = await _state(engine)

        await upgrade(engine, revision.revision)
        after = await _state(engine)
        assert after[0] == {revision.revision}
        await downgrade(engine, below)
        assert await _state(engine) == before
        await upgrade(engine, revision.revision)
        assert await _state(engine) == after
    finally:
        await engine.dispose()
