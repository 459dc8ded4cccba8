"""A person answers on the web pages over HTTP, and the database holds exactly what the
pages said: on SQLite and PostgreSQL."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Answer,
    AnswerKind,
    Channel,
    Comment,
    Delivery,
    DeliveryStatus,
    InviteRole,
    Respondent,
    WebAccount,
)
from tests.web.helpers import (
    Municipality,
    buttons_of,
    csrf_of,
    form_of,
    h1_of,
    hidden_of,
    read,
)

Client = TestClient[web.Request, web.Application]
SCALE_HYP5 = ["Altid", "Ofte", "Nogle gange", "Sjældent", "Aldrig", "Ved ikke", "Spring over"]


async def joined(client: Client, municipality: Municipality, name: str = "Anna") -> str:
    """A relative opens the letter's link and accepts the information; the first page."""
    unit = await municipality.unit()
    citizen = await municipality.citizen(unit, name)
    await municipality.open_round(unit)
    letter = await municipality.letter(citizen)
    welcome = await read(await client.get(f"/l/{letter.token}"))
    assert h1_of(welcome) == "Spørgeskema fra Testrup Kommune"
    assert "Svar her" in welcome and "Åbn i Telegram" in welcome
    information = await read(await client.get("/svar"))
    assert h1_of(information) == "Før du svarer"
    return information


def comment_form(page: str, text: str) -> dict[str, str]:
    """What the comment page's Send button posts, with this comment."""
    return {
        "csrf": csrf_of(page),
        "d": hidden_of(page, "d"),
        "i": hidden_of(page, "i"),
        "kommentar": text,
        "send": "1",
    }


async def press(client: Client, page: str, words: str, path: str = "/svar") -> str:
    """Press the button with these words on ``page``; the page after the redirect."""
    response = await client.post(path, data=form_of(page, words), allow_redirects=False)
    assert response.status == 303, await read(response)
    return await read(await client.get(response.headers["Location"]))


async def test_a_relative_answers_from_the_letter_to_the_thanks(
    client: Client, municipality: Municipality, sessions: async_sessionmaker[AsyncSession]
) -> None:
    information = await joined(client, municipality)
    assert "frivilligt" in information and "13 måneder" in information
    assert "70 11 22 33" in information and "Dine data" in information
    assert "/mine_data" not in information  # the chat's commands are no use here
    first = await press(client, information, "Ja, jeg vil gerne være med", "/svar/information")
    assert "Spørgsmål 1 af 7" in first
    assert h1_of(first) == "Har Anna nogen at tale med og være sammen med i hverdagen?"
    assert buttons_of(first)[1:8] == SCALE_HYP5  # after the language switch
    second = await press(client, first, "Ved ikke")
    assert "Spørgsmål 2 af 7" in second
    third = await press(client, second, "Spring over")
    assert "Spørgsmål 3 af 7" in third
    back = await press(client, third, "⬅️ Tilbage")
    assert "Spørgsmål 2 af 7" in back and "✓" in back and "(dit svar)" in back
    page = await press(client, back, "🙂 Tilfreds")
    for words in ("Altid", "Ofte", "Altid", "Aldrig", "😊 Meget tilfreds"):
        page = await press(client, page, words)
    assert h1_of(page) == "Er der andet, du vil fortælle os?"
    response = await client.post(
        "/svar/kommentar",
        data=comment_form(page, "Personalet er søde."),
        allow_redirects=False,
    )
    thanks = await read(await client.get(response.headers["Location"]))
    assert h1_of(thanks) == "Tak for dine svar! 🌷"
    async with sessions() as session:
        answers = {
            item: (kind, value, channel)
            for item, kind, value, channel in await session.execute(
                select(Answer.item_id, Answer.kind, Answer.value, Answer.channel)
            )
        }
        delivery = (await session.execute(select(Delivery))).scalar_one()
        comments = list((await session.execute(select(Comment.text))).scalars())
    assert len(answers) == 7
    assert answers["E5"] == (AnswerKind.DONT_KNOW, None, Channel.WEB)
    assert answers["M1"][0:2] == (AnswerKind.VALUE, 2)  # the position of "Tilfreds"
    assert all(channel == Channel.WEB for _, _, channel in answers.values())
    assert delivery.status == DeliveryStatus.COMPLETED and delivery.channel == Channel.WEB
    assert comments == ["Personalet er søde."]
    # After finishing, the link shows the thanks and changes nothing.
    again = await read(await client.get("/svar"))
    assert h1_of(again) == "Tak for dine svar! 🌷"
    # «Dine data» says what /mine_data says: the finished round's answers are cut from the
    # person (the round is anonymous), no longer counted as theirs, and when they go.
    mine = await read(await client.get("/svar/data"))
    assert "svar: 0, kommentarer: 0" in mine
    assert "Spørgeskemaer med anonyme svar: 1." in mine and "De slettes senest" in mine


async def test_a_double_submit_and_an_old_tab_store_one_answer(
    client: Client, municipality: Municipality, sessions: async_sessionmaker[AsyncSession]
) -> None:
    information = await joined(client, municipality)
    first = await press(client, information, "Ja, jeg vil gerne være med", "/svar/information")
    second = await press(client, first, "Altid")
    assert "Spørgsmål 2 af 7" in second
    # The same form sent again (a double click, or the browser's Back and a new press).
    stale = await press(client, first, "Aldrig")
    assert "Spørgsmål 2 af 7" in stale
    assert "Det spørgsmål er allerede besvaret. Her er, hvor du er nået til." in stale
    async with sessions() as session:
        values = list((await session.execute(select(Answer.value))).scalars())
    assert values == [1]
    # The note is said once; the next page is plain.
    assert "allerede besvaret" not in await read(await client.get("/svar"))


async def test_a_too_long_comment_is_kept_and_refused_politely(
    client: Client, municipality: Municipality, sessions: async_sessionmaker[AsyncSession]
) -> None:
    information = await joined(client, municipality)
    page = await press(client, information, "Ja, jeg vil gerne være med", "/svar/information")
    for _ in range(7):
        page = await press(client, page, "Spring over")
    text = "ord " * 400
    response = await client.post(
        "/svar/kommentar",
        data=comment_form(page, text),
    )
    body = await read(response)
    assert response.status == 400
    assert "Din kommentar er for lang" in body and text.strip() in body
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Comment)) == 0


async def test_english_from_the_same_catalogs(client: Client, municipality: Municipality) -> None:
    information = await joined(client, municipality)
    assert '<html lang="da">' in information
    response = await client.post(
        "/svar/sprog", data={"csrf": csrf_of(information), "lang": "en", "next": "/svar"}
    )
    english = await read(response)
    assert '<html lang="en">' in english
    assert h1_of(english) == "Before you answer"
    first = await press(client, english, "Yes, I would like to take part", "/svar/information")
    assert "Question 1 of 7" in first
    assert "Don't know" in buttons_of(first) or "Don’t know" in buttons_of(first)


async def test_a_person_deletes_their_data_on_the_web(
    client: Client, municipality: Municipality, sessions: async_sessionmaker[AsyncSession]
) -> None:
    information = await joined(client, municipality)
    first = await press(client, information, "Ja, jeg vil gerne være med", "/svar/information")
    await press(client, first, "Ofte")
    mine = await read(await client.get("/svar/data"))
    assert h1_of(mine) == "Det har vi gemt om dig"
    assert "Du svarer som pårørende til Anna ved Plejecenter Åbakken" in mine
    assert "svar: 1" in mine
    confirm = await read(await client.get("/svar/data/slet"))
    assert buttons_of(confirm)[-2:] == ["Ja, slet mine data", "Nej, behold dem"]
    kept = await press(client, confirm, "Nej, behold dem", "/svar/data/slet")
    assert h1_of(kept) == "Det har vi gemt om dig"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 1
    response = await client.post(
        "/svar/data/slet", data={"csrf": csrf_of(confirm), "confirm": "yes"}
    )
    assert h1_of(await read(response)) == "Dine data er slettet"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 0
        assert await session.scalar(select(func.count()).select_from(Respondent)) == 0
    # The browser's session leads nowhere now.
    after = await client.get("/svar")
    assert after.status == 401 and h1_of(await read(after)) == "Siden er udløbet"


async def test_stop_and_take_part_again(
    client: Client, municipality: Municipality, sessions: async_sessionmaker[AsyncSession]
) -> None:
    information = await joined(client, municipality)
    await press(client, information, "Ja, jeg vil gerne være med", "/svar/information")
    confirm = await read(await client.get("/svar/data/stop"))
    stopped = await press(
        client, confirm, "Ja, send mig ikke flere spørgeskemaer", "/svar/data/stop"
    )
    assert h1_of(stopped) == "Du får ikke flere spørgeskemaer"
    async with sessions() as session:
        account = (await session.execute(select(WebAccount))).scalar_one()
        assert account.stopped_at is not None
    again = await press(client, stopped, "Jeg vil gerne være med igen", "/svar/data/fortsaet")
    assert "Spørgsmål 1 af 7" in again
    async with sessions() as session:
        account = (await session.execute(select(WebAccount))).scalar_one()
        assert account.stopped_at is None


async def test_polite_pages_for_unknown_links_and_departed_citizens(
    client: Client, municipality: Municipality
) -> None:
    unknown = await client.get("/l/" + "A" * 32)
    assert unknown.status == 404 and h1_of(await read(unknown)) == "Det link kender vi ikke"
    unit = await municipality.unit()
    for reason, words in (("died", "er død"), ("moved", "ikke længere hjælp")):
        citizen = await municipality.citizen(unit, "Karl")
        letter = await municipality.letter(citizen, InviteRole.RELATIVE)
        await municipality.citizen_leaves(citizen, reason)
        response = await client.get(f"/l/{letter.token}")
        body = await read(response)
        assert response.status == 410, body
        assert h1_of(body) == "Spørgeskemaet er ikke længere åbent" and words in body


async def test_a_typed_code_opens_the_same_person(
    client: Client, municipality: Municipality, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await municipality.unit()
    citizen = await municipality.citizen(unit)
    await municipality.open_round(unit)
    letter = await municipality.letter(citizen, InviteRole.CITIZEN)
    assert letter.code is not None
    form = await read(await client.get("/kode"))
    typed = letter.code.lower()[:4] + " " + letter.code.lower()[4:]  # as a person types it
    response = await client.post(
        "/kode", data={"csrf": csrf_of(form), "kode": typed}, allow_redirects=False
    )
    assert response.headers["Location"] == "/svar/velkommen"
    await client.get("/svar/velkommen")
    await client.get(f"/l/{letter.token}")  # the same letter's link: the same person
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Respondent)) == 1
