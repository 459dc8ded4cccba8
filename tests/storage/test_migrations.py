"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import downgrade, is_current, upgrade
from storage.models import Base


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_stairway_up_down_up_matches_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert not await is_current(engine)
        await upgrade(engine)
        assert await is_current(engine)
        await downgrade(engine, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(_tables) <= {"alembic_version"}
        await upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
            tables = await connection.run_sync(_tables)
        assert {"answers", "deliveries", "telegram_accounts", "invites"} <= tables
    finally:
        await engine.dispose()


async def test_the_tests_migrated_databases_are_copies_at_the_newest_revision(
    engine: AsyncEngine,
) -> None:
    """The ``engine`` fixture's database is a copy of one migrated once per run: it must be
    exactly what the migrations build, or every other test runs on the wrong schema."""
    assert await is_current(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
