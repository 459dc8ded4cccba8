"""What the web tests share: the settings, a municipality's set-up made through the
domain, and reading a page as a person would (its heading, buttons and forms)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

from aiohttp import ClientResponse

from bot.config import Settings
from storage.models import InviteRole
from surveys.fieldwork import care_events
from surveys.registry.invites import IssuedInvite, issue_invites
from tests.harness import Municipality as Registry

LINK_SECRET = "l" * 40
SESSION_SECRET = "s" * 40
BOT_USERNAME = "pejling_test_bot"


def web_settings(database_url: str, *, public_url: str = "http://127.0.0.1") -> Settings:
    return Settings(
        database_url=database_url,
        municipality="Testrup Kommune",
        contact="Ældreservice, tlf. 70 11 22 33",
        bot_username=BOT_USERNAME,
        public_url=public_url,
        link_secret=LINK_SECRET,
        web_session_secret=SESSION_SECRET,
    )


class Municipality(Registry):
    """The municipality's set-up, with the letters of the web pages."""

    async def letter(
        self,
        citizen_id: int,
        role: InviteRole = InviteRole.RELATIVE,
        *,
        ttl: timedelta = timedelta(days=30),
        now: datetime | None = None,
    ) -> IssuedInvite:
        """A printed letter's invite: its token (the link) and its short code."""
        async with self.sessions() as session:
            [issued] = await issue_invites(
                session,
                role,
                ttl=ttl,
                citizen_id=citizen_id,
                now=now,
                secret=LINK_SECRET.encode(),
            )
            await session.commit()
            return issued

    async def citizen_leaves(self, citizen_id: int, reason: str) -> None:
        async with self.sessions() as session:
            await care_events.citizen_left(session, citizen_id, reason)
            await session.commit()


# ---------------------------------------------------------------- reading a page


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def text_of(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def h1_of(page: str) -> str:
    [h1] = re.findall(r"<h1[^>]*>(.*?)</h1>", page, flags=re.S)
    return text_of(h1)


def buttons_of(page: str) -> list[str]:
    return [text_of(b) for b in re.findall(r"<button[^>]*>(.*?)</button>", page, flags=re.S)]


def hidden_of(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no field {name}"
    return match.group(1)


def value_of_button(page: str, words: str) -> tuple[str, str]:
    """The name and value of the button with these words."""
    for attributes, inner in re.findall(r"<button([^>]*)>(.*?)</button>", page, flags=re.S):
        if text_of(inner) == words:
            name = re.search(r'name="([^"]+)"', attributes)
            value = re.search(r'value="([^"]+)"', attributes)
            assert name and value
            return name.group(1), value.group(1)
    raise AssertionError(f"no button {words!r} in {buttons_of(page)}")


def form_of(page: str, words: str) -> dict[str, str]:
    """What pressing the button with these words on ``page`` posts: the CSRF token, the
    button, and the question's delivery and index where the page has them."""
    name, value = value_of_button(page, words)
    data = {"csrf": csrf_of(page), name: value}
    if 'name="d"' in page:
        data |= {"d": hidden_of(page, "d"), "i": hidden_of(page, "i")}
    return data


async def read(response: ClientResponse) -> str:
    return await response.text()
