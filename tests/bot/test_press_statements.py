"""The work of a button press, counted in SQL statements (a count cannot drift as a time
can): at most 4 per answer on PostgreSQL and 5 on SQLite (issue 9)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.callbacks import AnswerCb
from storage.models import (
    Answer,
    Delivery,
    DeliveryStatus,
    Respondent,
    RoundAudience,
    TelegramAccount,
)
from tests.harness import BotHarness

# The update's marker (with the account, in one statement on PostgreSQL), the delivery
# with its round and answers, the answer upsert, the delivery update.
MOST_PER_ANSWER = {"postgresql": 4, "sqlite": 5}
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Statements:
    """The statements an engine runs, whitespace collapsed."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.seen: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        statement = " ".join(str(args[2]).replace('"', "").split())
        # Transaction control is not counted: asyncpg's BEGIN on PostgreSQL does not even
        # pass this event, and SQLite's BEGIN IMMEDIATE stands where its implicit BEGIN was.
        if not statement.upper().startswith(TRANSACTION_CONTROL):
            self.seen.append(statement)

    def take(self) -> list[str]:
        taken, self.seen = self.seen, []
        return taken


async def test_an_answer_takes_at_most_four_statements_on_postgres_and_five_on_sqlite(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    unit = await harness.unit()
    [user] = await harness.crowd(unit, 1, first_user_id=900_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    assert await harness.send_invitations() == 1
    person = harness.person(user)
    statements = Statements(engine)
    await person.press("Start spørgeskemaet")
    statements.take()  # the first press of a process also reads the survey version once

    per_answer: list[list[str]] = []
    while person.last.text.startswith("Spørgsmål"):
        await person.press(person.buttons(person.last)[1])  # the second option, say
        per_answer.append(statements.take())

    limit = MOST_PER_ANSWER[engine.dialect.name]
    assert len(per_answer) == 7  # a relative in a care home answers seven questions
    for taken in per_answer:
        assert len(taken) <= limit, taken
        assert sum("INSERT INTO answers" in s for s in taken) == 1, taken
        assert sum(s.startswith("UPDATE deliveries") for s in taken) == 1, taken
        assert sum("INSERT INTO processed_updates" in s for s in taken) == 1, taken
    kinds = Counter(s.split()[0] for taken in per_answer for s in taken)
    assert kinds["SELECT"] <= 7 * (limit - 3), kinds
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 7
        delivery = (await session.execute(select(Delivery))).scalar_one()
        assert delivery.position == 7 and delivery.status == DeliveryStatus.STARTED


async def test_a_stale_or_forged_press_writes_nothing_but_its_marker(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    unit = await harness.unit()
    [user, other] = await harness.crowd(unit, 2, first_user_id=910_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    assert await harness.send_invitations() == 2
    person = harness.person(user)
    await person.press("Start spørgeskemaet")
    await person.press("Ofte")
    shown = person.last
    async with harness.sessions() as session:
        rows = await session.execute(
            select(TelegramAccount.telegram_user_id, Delivery.id)
            .join(Respondent, Respondent.id == Delivery.respondent_id)
            .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
        )
        deliveries = {user_id: delivery_id for user_id, delivery_id in rows}
    statements = Statements(engine)

    # The first question's button again: refused as stale, nothing but the marker written.
    stale = AnswerCb(d=deliveries[user], i=0, v="1").pack()
    answer = await person.press_data(stale, message_id=shown.message_id)
    assert "allerede besvaret" in (answer.text or "")
    # Someone else's delivery, named in forged data: refused, nothing written.
    forged = AnswerCb(d=deliveries[other], i=0, v="1").pack()
    answer = await person.press_data(forged, message_id=shown.message_id)
    assert "hører ikke til dit spørgeskema" in (answer.text or "")

    taken = statements.take()
    writes = [s for s in taken if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert all("processed_updates" in s for s in writes), writes
    assert sum("INSERT INTO processed_updates" in s for s in taken) == 2, taken
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 1
