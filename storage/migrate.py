"""Running the Alembic migrations from code (``pejling db upgrade``, start-up, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(Exception):
    """The database needs `pejling db upgrade` before Pejling can use it."""


def alembic_config(url: str = "") -> Config:
    """An Alembic config pointing at our migrations, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` up to ``revision``."""

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Migrate the database behind ``engine`` down to ``revision``."""

    def _downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_downgrade)


async def is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest revision."""

    def _check(connection: Connection) -> bool:
        current = MigrationContext.configure(connection).get_current_heads()
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        return set(current) == set(heads)

    async with engine.connect() as connection:
        return await connection.run_sync(_check)


async def prepare(engine: AsyncEngine) -> None:
    """Make sure the schema is current: a new SQLite file migrates by itself, while
    PostgreSQL (shared, production) is migrated on purpose with `pejling db upgrade`."""
    if await is_current(engine):
        return
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
        return
    raise SchemaOutOfDate(
        "DATABASE_URL: the database schema is not up to date; run `pejling db upgrade`"
    )
