"""Revision 0008: answers and completed deliveries from before the web came by Telegram."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import downgrade, upgrade


async def test_existing_answers_and_completed_deliveries_are_telegram(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0007")
        async with engine.begin() as connection:
            for statement in (
                "INSERT INTO units (id, name, kind, created_at) "
                "VALUES (1, 'U', 'care_home', CURRENT_TIMESTAMP)",
                "INSERT INTO survey_versions (id, survey_id, version, checksum, definition, "
                "created_at) VALUES (1, 's', 1, 'x', '{}', CURRENT_TIMESTAMP)",
                "INSERT INTO rounds (id, survey_version_id, audience, opens_at, closes_at, "
                "created_at) VALUES (1, 1, 'both', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)",
                "INSERT INTO deliveries (id, round_id, unit_id, audience, unit_kind, status, "
                "position, proxy, attempts, invited_at, updated_at) VALUES "
                "(1, 1, 1, 'citizen', 'care_home', 'completed', 3, false, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                "(2, 1, 1, 'citizen', 'care_home', 'started', 1, false, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO answers (delivery_id, survey_id, survey_version, item_id, kind, "
                "value, answered_at) VALUES (1, 's', 1, 'A1', 'value', 2, CURRENT_TIMESTAMP)",
            ):
                await connection.execute(text(statement))
        await upgrade(engine)
        async with engine.connect() as connection:
            answers = (await connection.execute(text("SELECT channel FROM answers"))).all()
            deliveries = (
                await connection.execute(text("SELECT id, channel FROM deliveries ORDER BY id"))
            ).all()
        assert [tuple(row) for row in answers] == [("telegram",)]
        assert [tuple(row) for row in deliveries] == [(1, "telegram"), (2, None)]
        await downgrade(engine, "0007")
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM answers"))
        assert count == 1
    finally:
        await engine.dispose()
