"""The database goes away for a while: the bot says "try again shortly", loses nothing
it acknowledged, and recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.config import Settings
from standin import BotAPIStandIn
from storage.db import create_engine, session_factory
from storage.models import Answer, InviteRole, RoundAudience
from tests.harness import BotHarness


class Outage:
    """A TCP relay in front of PostgreSQL that the test can cut and restore: to the bot it
    is the server going away (connections reset, new ones refused) and coming back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self.links):
            writer.close()
        self.links.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.links |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


@pytest.fixture
async def outage_harness(
    database_url: str, settings: Settings, standin: BotAPIStandIn, harness: BotHarness
) -> AsyncIterator[tuple[BotHarness, Outage]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("an embedded SQLite file does not go away; PostgreSQL can")
    await harness.stop()
    url = make_url(database_url)
    outage = Outage(url.host or "127.0.0.1", url.port or 5432)
    await outage.start()
    relayed = url.set(host="127.0.0.1", port=outage.port).render_as_string(hide_password=False)
    engine = create_engine(relayed)
    bot = BotHarness(
        standin=standin,
        sessions=session_factory(engine),
        settings=settings.model_copy(update={"database_url": relayed}),
    )
    await bot.start()
    try:
        yield bot, outage
    finally:
        await bot.stop()
        await outage.cut()
        await engine.dispose()


async def test_the_bot_says_try_again_while_the_database_is_away_and_recovers(
    outage_harness: tuple[BotHarness, Outage],
) -> None:
    harness, outage = outage_harness
    unit = await harness.unit()
    citizen = await harness.citizen(unit, "Anna")
    await harness.open_round(unit, RoundAudience.RELATIVES)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    person = harness.person(9901)
    await person.send(f"/start {token}")
    await person.press("Ja, jeg vil gerne være med")
    await person.press("Ofte")
    question = person.last
    assert question.text.startswith("Spørgsmål 2 af 7")

    await outage.cut()
    answer = await person.press("🙂 Tilfreds")
    assert answer.show_alert and "Prøv igen om lidt" in (answer.text or "")
    [reply] = await person.send("/mine_data")
    assert "Prøv igen om lidt" in reply.text
    assert person.last.text == reply.text

    await outage.start()
    # The same button, pressed again once it works: the question moves on in place.
    await person.press("🙂 Tilfreds", message_id=question.message_id)
    assert question.text.startswith("Spørgsmål 3 af 7")
    await person.press("Altid", message_id=question.message_id)
    async with harness.sessions() as session:
        rows = dict((await session.execute(select(Answer.item_id, Answer.value))).all())
    assert rows == {"E5": 2, "M1": 2, "M4": 1}
