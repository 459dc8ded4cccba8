"""The sender's database work per invitation: claims and outcomes go in batches, so a
round costs a few statements per batch, not a few per person (issue 9)."""

from __future__ import annotations

import itertools
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import RoundAudience
from tests.bot.test_rounds import invitations
from tests.harness import BotHarness
from tests.surveys.fieldwork.test_outbox import statements_of


def by_kind(statements: list[str]) -> Counter[str]:
    """ "UPDATE deliveries": 11, ... for a readable failure."""
    kinds: Counter[str] = Counter()
    for text in statements:
        words = text.replace('"', "").split()
        table = words[1] if words[0].upper() == "UPDATE" else ""
        for before, word in itertools.pairwise(words):
            if not table and before.upper() in ("FROM", "INTO"):
                table = word
        kinds[f"{words[0].upper()} {table}"] += 1
    return kinds


async def test_a_round_at_1000_a_second_costs_statements_per_batch_not_per_person(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    people = 300
    unit = await harness.unit()
    users = await harness.crowd(unit, people, first_user_id=960_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    assert harness.settings.send_rate == 1000

    with statements_of(engine) as statements:
        report = await harness.sender().run_once()

    assert report.sent == people
    assert set(invitations(harness.standin)) == set(users)
    assert set(invitations(harness.standin).values()) == {1}
    # Two batches of claims (200 + 100), outcomes in groups of up to 32, the lease: about
    # 25 in all. One statement per invitation (before batching: 3) would be 300 and more.
    assert len(statements) / people <= 0.15, by_kind(statements)
    assert max(by_kind(statements).values()) <= people / 10, by_kind(statements)


async def test_at_telegrams_30_a_second_each_invitation_costs_one_statement(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    # One message in flight: its outcome is recorded at once (so a hard kill can double
    # only that one), in one statement; the claim is shared by the batch.
    people = 40
    harness.settings.send_rate = 30
    unit = await harness.unit()
    await harness.crowd(unit, people, first_user_id=970_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)

    with statements_of(engine) as statements:
        report = await harness.sender().run_once()

    assert report.sent == people
    assert by_kind(statements)["UPDATE deliveries"] <= people + 4, by_kind(statements)
    assert len(statements) <= people + 12, by_kind(statements)
