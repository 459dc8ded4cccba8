"""The web pages are safe to put on the internet: each rule here fails without its code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.models import Answer, InviteRole
from storage.types import utcnow
from tests.web.helpers import Municipality, csrf_of, h1_of, read, web_settings
from web.app import build_web_app

Client = TestClient[web.Request, web.Application]


async def test_every_post_needs_the_sessions_csrf_token(client: Client) -> None:
    page = await read(await client.get("/kode"))
    token = csrf_of(page)
    for data in ({"kode": "K7QM-2XPA-9D"}, {"kode": "K7QM-2XPA-9D", "csrf": "forged"}):
        response = await client.post("/kode", data=data, allow_redirects=False)
        assert response.status == 403
        assert h1_of(await read(response)) == "Siden var for gammel"
    # Another browser (no cookie) with a token copied from this page is refused too.
    app = client.app
    assert app is not None
    async with TestClient(TestServer(app)) as stranger:
        response = await stranger.post("/kode", data={"kode": "x", "csrf": token})
        assert response.status == 403
    accepted = await client.post("/kode", data={"kode": "nonsense", "csrf": token})
    assert accepted.status == 200


async def test_a_forged_answer_stores_nothing(
    client: Client, municipality: Municipality, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = await municipality.unit()
    citizen = await municipality.citizen(unit)
    await municipality.open_round(unit)
    letter = await municipality.letter(citizen)
    await client.get(f"/l/{letter.token}")
    page = await read(await client.get("/svar"))
    await client.post("/svar/information", data={"choice": "yes", "csrf": csrf_of(page)})
    question = await read(await client.get("/svar"))
    delivery = re.search(r'name="d" value="(\d+)"', question)
    assert delivery
    forged = {"d": delivery.group(1), "i": "0", "choice": "1"}
    response = await client.post("/svar", data=forged, allow_redirects=False)
    assert response.status == 403
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 0


async def test_headers_on_pages_static_files_and_errors(client: Client) -> None:
    for path in ("/kode", "/static/pejling.css", "/no-such-page"):
        response = await client.get(path)
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["script-src"] == "'none'"
        # No third-party origin anywhere: every style, font and image is Pejling's own.
        assert "http" not in policy and "*" not in policy and "data:" not in policy
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
    page = await client.get("/kode")
    assert page.headers["Cache-Control"] == "no-store"
    missing = await client.get("/no-such-page")
    assert missing.status == 404 and h1_of(await read(missing)) == "Siden findes ikke"


@pytest.mark.parametrize(
    ("public_url", "secure"), [("https://pejling.example.dk", True), ("http://127.0.0.1", False)]
)
async def test_the_session_cookie_is_httponly_samesite_and_secure_behind_https(
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    public_url: str,
    secure: bool,
) -> None:
    app = build_web_app(web_settings(database_url, public_url=public_url), sessions, engine)
    async with TestClient(TestServer(app)) as browser:
        response = await browser.get("/kode")
        [cookie] = response.headers.getall("Set-Cookie")
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert cookie.startswith("pejling=")
        assert "httponly" in attributes
        assert "samesite=lax" in cookie.lower()
        assert ("secure" in attributes) is secure
        assert "max-age" not in attributes and "expires" not in attributes  # browser session
        hsts = response.headers.get("Strict-Transport-Security")
        assert (hsts is not None) is secure


async def test_the_cookie_is_encrypted(client: Client, municipality: Municipality) -> None:
    unit = await municipality.unit()
    citizen = await municipality.citizen(unit)
    letter = await municipality.letter(citizen)
    response = await client.get(f"/l/{letter.token}", allow_redirects=False)
    cookie = response.cookies["pejling"].value
    assert "respondent" not in cookie and "csrf" not in cookie
    assert letter.token not in cookie


async def test_big_requests_are_refused(client: Client) -> None:
    token = csrf_of(await read(await client.get("/kode")))
    response = await client.post("/kode", data={"csrf": token, "kode": "x" * 100_000})
    assert response.status == 413
    assert h1_of(await read(response)) == "For meget tekst"


async def test_the_letters_token_leaves_the_address_bar_at_once(
    client: Client, municipality: Municipality
) -> None:
    unit = await municipality.unit()
    citizen = await municipality.citizen(unit)
    letter = await municipality.letter(citizen)
    response = await client.get(f"/l/{letter.token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/svar/velkommen"
    assert "pejling" in response.cookies
    welcome = await client.get("/svar/velkommen")
    assert welcome.status == 200
    assert letter.token not in str(welcome.url)


async def test_unknown_and_expired_codes_get_the_same_answer(
    client: Client, municipality: Municipality
) -> None:
    unit = await municipality.unit()
    citizen = await municipality.citizen(unit)
    expired = await municipality.letter(
        citizen, ttl=timedelta(days=1), now=utcnow() - timedelta(days=3)
    )
    assert expired.code is not None
    token = csrf_of(await read(await client.get("/kode")))
    answers = []
    for code in (expired.code, "ABCD-EFGH-JK"):
        response = await client.post("/kode", data={"csrf": token, "kode": code})
        answers.append((response.status, await read(response)))
    assert answers[0] == answers[1]
    assert "Den kode kender vi ikke" in answers[0][1]


async def test_wrong_codes_are_throttled_per_address(
    client: Client, municipality: Municipality
) -> None:
    unit = await municipality.unit()
    citizen = await municipality.citizen(unit)
    letter = await municipality.letter(citizen, InviteRole.CITIZEN)
    assert letter.code is not None
    token = csrf_of(await read(await client.get("/kode")))
    for _ in range(5):
        wrong = await client.post("/kode", data={"csrf": token, "kode": "ABCD-EFGH-JK"})
        assert wrong.status == 200
    throttled = await client.post("/kode", data={"csrf": token, "kode": letter.code})
    assert throttled.status == 429
    assert throttled.headers["Retry-After"] == "900"
    assert "Vent et kvarter" in await read(throttled)
