"""Many people pressing at the same moment: every press is stored and answered, and none
is told to try again (on SQLite a transaction that read first and wrote later used to
fail at once with "database is locked" when another wrote in between)."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import UPDATES_AT_ONCE
from standin import Person
from storage.models import Answer, Delivery, DeliveryStatus, RoundAudience
from tests.harness import BotHarness

PEOPLE = 60  # thirty were too few to show the SQLite race on two cores


async def _answer_everything(person: Person) -> list[str]:
    """Press through the survey as fast as the bot answers; the alerts met on the way."""
    alerts = []
    answer = await person.press("Start spørgeskemaet", timeout=60)
    alerts.append(answer.text or "")
    while True:
        buttons = person.buttons(person.last)
        if not buttons:
            return alerts
        choice = "Nej tak, afslut" if "Nej tak, afslut" in buttons else buttons[0]
        answer = await person.press(choice, timeout=60)
        alerts.append(answer.text or "")


class Connections:
    """The most database connections in use at once (the pool's checkouts)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.in_use = self.most = 0
        event.listen(engine.sync_engine, "checkout", self._out)
        event.listen(engine.sync_engine, "checkin", self._back)

    def _out(self, *_: object) -> None:
        self.in_use += 1
        self.most = max(self.most, self.in_use)

    def _back(self, *_: object) -> None:
        self.in_use -= 1


async def test_many_people_pressing_at_once_are_all_stored_and_none_told_to_try_again(
    harness: BotHarness, engine: AsyncEngine
) -> None:
    unit = await harness.unit()
    users = await harness.crowd(unit, PEOPLE, first_user_id=950_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    assert await harness.send_invitations() == PEOPLE
    people = [harness.person(user) for user in users]

    connections = Connections(engine)
    alerts = await asyncio.gather(*(_answer_everything(person) for person in people))

    # Sixty presses at a time are handled a few at a time: they wait at Telegram, not in
    # the database pool, where a long wait ends in a failed press (the pool's timeout).
    assert 2 <= connections.most <= UPDATES_AT_ONCE

    told = [text for texts in alerts for text in texts if text]
    assert told == [], told  # no "try again shortly", no refusal of any kind
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 7 * PEOPLE
        completed = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == DeliveryStatus.COMPLETED)
        )
    assert completed == PEOPLE
