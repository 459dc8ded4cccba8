"""The work of an answer on the web pages, counted in SQL statements (a count cannot drift
as a time can), through the real application over HTTP on SQLite and PostgreSQL: an
answer is the POST of the button's form and the GET of the page its 303 leads to, as
bench/web.py measures it (issue 16). Before this was counted, an answer took 5 + 10."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import Answer, Channel, Delivery, DeliveryStatus
from tests.bot.test_press_statements import Statements
from tests.web.helpers import (
    Municipality,
    buttons_of,
    form_of,
    h1_of,
    read,
)
from tests.web.test_pages import joined

Client = TestClient[web.Request, web.Application]

# The person (their citizen's status and accounts), the delivery with its round and
# stored answers (locked), the answer upsert, the delivery update.
PER_ANSWER_POST = 4
# The person (with whether a round is still to take them in), then their open delivery
# with its round and stored answers.
PER_QUESTION_GET = 2
# The person, the delivery (locked), the delivery update, and whether another survey is
# open for them.
PER_FINISH_POST = 4
# The person, no open delivery, no completed delivery of theirs (the round is anonymous:
# finishing cut the link), the open round they took part in: the thanks.
PER_THANKS_GET = 4


async def _send(client: Client, page: str, words: str, path: str) -> tuple[str, str]:
    """Press the button with these words; the redirect's target and the cookie it set."""
    response = await client.post(path, data=form_of(page, words), allow_redirects=False)
    assert response.status == 303, await read(response)
    return response.headers["Location"], response.headers.get("Set-Cookie", "")


async def test_an_answer_on_the_web_takes_four_statements_and_its_next_page_two(
    client: Client,
    municipality: Municipality,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    information = await joined(client, municipality)
    location, _ = await _send(
        client, information, "Ja, jeg vil gerne være med", "/svar/information"
    )
    page = await read(await client.get(location))
    assert "Spørgsmål 1 af 7" in page
    statements = Statements(engine)

    posts: list[list[str]] = []
    gets: list[list[str]] = []
    for number in range(2, 9):
        words = "Ofte" if "Ofte" in buttons_of(page) else "Ved ikke"
        location, cookie = await _send(client, page, words, "/svar")
        posts.append(statements.take())
        # The session cookie is read, not written again: nothing in it changed.
        assert location == "/svar" and cookie == ""
        response = await client.get(location)
        page = await read(response)
        gets.append(statements.take())
        assert "Set-Cookie" not in response.headers
        assert response.status == 200
        if number <= 7:
            assert f"Spørgsmål {number} af 7" in page
    assert h1_of(page) == "Er der andet, du vil fortælle os?"

    for taken in posts:
        assert len(taken) == PER_ANSWER_POST, taken
        assert [s.split()[0] for s in taken] == ["SELECT", "SELECT", "INSERT", "UPDATE"], taken
        assert "INSERT INTO answers" in taken[2] and taken[3].startswith("UPDATE deliveries")
    for taken in gets:
        assert len(taken) == PER_QUESTION_GET, taken
        assert all(s.startswith("SELECT") for s in taken), taken

    location, cookie = await _send(client, page, "Nej tak, afslut", "/svar/kommentar")
    finish = statements.take()
    thanks = await read(await client.get(location))
    thanks_statements = statements.take()
    assert h1_of(thanks) == "Tak for dine svar! 🌷" and cookie == ""
    assert len(finish) == PER_FINISH_POST, finish
    assert sum(s.startswith("UPDATE deliveries") for s in finish) == 1, finish
    assert len(thanks_statements) == PER_THANKS_GET, thanks_statements
    assert all(s.startswith("SELECT") for s in thanks_statements), thanks_statements

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 7
        channels = set((await session.execute(select(Answer.channel))).scalars())
        delivery = (await session.execute(select(Delivery))).scalar_one()
    assert channels == {Channel.WEB}
    assert delivery.status == DeliveryStatus.COMPLETED and delivery.position == 7
