"""Revision 0009: tallies get each person's figures per channel; a round with web answers
is counted again."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import downgrade, upgrade


async def test_telegram_tallies_are_kept_and_rounds_with_web_answers_are_counted_again(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0008")
        async with engine.begin() as connection:
            for statement in (
                "INSERT INTO units (id, name, kind, created_at) "
                "VALUES (1, 'U', 'care_home', CURRENT_TIMESTAMP)",
                "INSERT INTO survey_versions (id, survey_id, version, checksum, definition, "
                "created_at) VALUES (1, 's', 1, 'x', '{}', CURRENT_TIMESTAMP)",
                "INSERT INTO rounds (id, survey_version_id, audience, opens_at, closes_at, "
                "closed_at, tallied_at, created_at) VALUES "
                "(1, 1, 'both', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                "(2, 1, 'both', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO deliveries (id, round_id, unit_id, audience, unit_kind, status, "
                "position, proxy, attempts, invited_at, updated_at, channel) VALUES "
                "(1, 1, 1, 'citizen', 'care_home', 'completed', 3, false, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'telegram'), "
                "(2, 2, 1, 'citizen', 'care_home', 'completed', 3, false, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'web')",
                "INSERT INTO answers (delivery_id, survey_id, survey_version, item_id, kind, "
                "value, answered_at, channel) VALUES "
                "(1, 's', 1, 'E2', 'value', 2, CURRENT_TIMESTAMP, 'telegram'), "
                "(2, 's', 1, 'E2', 'value', 2, CURRENT_TIMESTAMP, 'web')",
                "INSERT INTO round_tallies (round_id, unit_id, audience, unit_kind, proxy, "
                "channel, item_id, kind, value, answered, tils_total, count) VALUES "
                "(1, 1, 'citizen', 'care_home', false, 'telegram', 'E2', 'value', 2, 3, 6.0, 1), "
                "(2, 1, 'citizen', 'care_home', false, 'web', 'E2', 'value', 2, 3, 6.0, 1)",
                "INSERT INTO round_delivery_tallies (round_id, unit_id, audience, status, "
                "proxy, channel, has_answers, count) VALUES "
                "(1, 1, 'citizen', 'completed', false, 'telegram', true, 1), "
                "(2, 1, 'citizen', 'completed', false, 'web', true, 1)",
            ):
                await connection.execute(text(statement))
        await upgrade(engine)
        async with engine.connect() as connection:
            tallies = (
                await connection.execute(
                    text(
                        "SELECT round_id, answered, channel_answered, channel_tils_total "
                        "FROM round_tallies"
                    )
                )
            ).all()
            counted = (
                await connection.execute(
                    text("SELECT round_id FROM round_delivery_tallies ORDER BY round_id")
                )
            ).all()
            untallied = (
                await connection.execute(text("SELECT id FROM rounds WHERE tallied_at IS NULL"))
            ).all()
        assert [tuple(row) for row in tallies] == [(1, 3, 3, 6.0)]
        assert [tuple(row) for row in counted] == [(1,)]
        assert [tuple(row) for row in untallied] == [(2,)]
        await downgrade(engine, "0008")
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM round_tallies"))
        assert count == 1
    finally:
        await engine.dispose()
