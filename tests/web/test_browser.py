"""The web pages in a real browser (Debian's chromium through Playwright), used as a
person would, by reading the page; axe-core finds no WCAG 2.1 AA violation on any page,
and every page reflows at 320 px and at 200 % zoom."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from storage.models import Answer, AnswerKind, Channel, Comment, InviteRole, Respondent
from tests.databases import DATABASES, MigratedTemplates, fresh_database
from tests.web.live import CHROMIUM, CHROMIUM_ARGS, LiveSite, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium for every browser test (they are all in this module). Not kept for
    the whole session: while Playwright's sync API is open it holds the thread's event
    loop, which the asynchronous tests after this module need."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(params=DATABASES)
def site(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[LiveSite]:
    """The pages on a migrated database of the test's own, SQLite or PostgreSQL, as
    ``engine`` gives the other tests (made on the site's loop: see LiveSite)."""
    live = LiveSite(fresh_database(request.param, tmp_path, migrated_templates, migrated=True))
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh person: a browser context of their own (own cookies), a phone's width."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="da-DK")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def letter_for(site: LiveSite, name: str, role: InviteRole = InviteRole.RELATIVE) -> str:
    """A new unit with an open round, a citizen, and the token of a letter for them."""

    async def make() -> str:
        unit = await site.municipality.unit(f"Plejecenter {name}")
        citizen = await site.municipality.citizen(unit, name)
        await site.municipality.open_round(unit)
        letter = await site.municipality.letter(citizen, role)
        return letter.token

    return site.run(make())


def accessible(page: Page) -> None:
    """axe-core (injected by the test only) finds no WCAG 2.1 AA violation; the page
    reflows without horizontal scrolling at 320 px and at 200 % zoom; text is 18 px or
    more; every button and button-like link is at least 48 x 48 px and has words."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    assert result.violations_count == 0, f"{page.url}\n{result.generate_report()}"
    assert page.locator("h1").count() == 1
    body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size >= 18
    for control in page.locator("button, a.button").all():
        box = control.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48, control
        assert control.inner_text().strip(), "a control without words"
    size = page.viewport_size
    assert size is not None
    # 320 CSS px wide (WCAG 1.4.10), and 200 % zoom of a 1280 px window (640 CSS px).
    for width, height in ((320, 640), (640, 512)):
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} scrolls sideways at {width} px"
    page.set_viewport_size(size)


def see(page: Page, text: str) -> None:
    """The text is on the page (waiting for the page a press led to)."""
    from playwright.sync_api import expect

    expect(page.get_by_text(text).first).to_be_visible()


def titled(page: Page, words: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("h1")).to_have_text(words)


def test_a_relative_answers_the_whole_survey_in_the_browser(page: Page, site: LiveSite) -> None:
    token = letter_for(site, "Anna")
    page.goto(f"{site.url}/l/{token}")
    # The token is gone from the address bar (and so from history and Referer headers).
    assert page.url == f"{site.url}/svar/velkommen" and token not in page.url
    titled(page, "Spørgeskema fra Testrup Kommune")
    accessible(page)
    page.get_by_role("link", name="Svar her").click()

    titled(page, "Før du svarer")
    assert "Det er frivilligt at svare" in page.content()
    accessible(page)
    page.get_by_role("button", name="Ja, jeg vil gerne være med").click()

    see(page, "Spørgsmål 1 af 7")
    titled(page, "Har Anna nogen at tale med og være sammen med i hverdagen?")
    accessible(page)
    # By keyboard alone: the skip link first, then into the page, visibly focused.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Gå til indholdet"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.get_by_role("button", name="Ved ikke").focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")

    see(page, "Spørgsmål 2 af 7")
    page.get_by_role("button", name="Spring over").click()
    see(page, "Spørgsmål 3 af 7")
    page.get_by_role("button", name="Tilbage").click()
    see(page, "Spørgsmål 2 af 7")
    see(page, "(dit svar)")
    page.get_by_role("button", name="Tilfreds", exact=False).first.click()

    # Half way: reload, and the survey is where it was.
    see(page, "Spørgsmål 3 af 7")
    page.reload()
    see(page, "Spørgsmål 3 af 7")

    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    see(page, "Question 3 of 7")
    accessible(page)
    for number in range(3, 8):
        see(page, f"Question {number} of 7")
        page.locator("button.answer").first.click()

    titled(page, "Is there anything else you would like to tell us?")
    accessible(page)
    page.get_by_label(re.compile("Your comment")).fill("The staff are kind.")
    page.get_by_role("button", name="Send the comment and finish").click()
    titled(page, "Thank you for your answers! 🌷")
    accessible(page)

    async def stored() -> tuple[dict[str, tuple[str, str]], list[str]]:
        async with site.sessions() as session:
            rows = await session.execute(select(Answer.item_id, Answer.kind, Answer.channel))
            comments = await session.execute(select(Comment.text))
            return {item: (kind, channel) for item, kind, channel in rows}, list(comments.scalars())

    answers, comments = site.run(stored())
    assert len(answers) == 7
    assert answers["E5"] == (AnswerKind.DONT_KNOW, Channel.WEB)
    assert answers["M1"][0] == AnswerKind.VALUE
    assert "The staff are kind." in comments


def test_another_person_deletes_their_data_in_the_browser(page: Page, site: LiveSite) -> None:
    token = letter_for(site, "Karl")

    async def people() -> int:
        async with site.sessions() as session:
            return await session.scalar(select(func.count()).select_from(Respondent)) or 0

    page.goto(f"{site.url}/l/{token}")
    page.get_by_role("link", name="Svar her").click()
    page.get_by_role("button", name="Ja, jeg vil gerne være med").click()
    page.get_by_role("button", name="Ofte").click()
    before = site.run(people())
    page.get_by_role("link", name="Se, hvad vi har gemt om dig").click()
    titled(page, "Det har vi gemt om dig")
    see(page, "Du svarer som pårørende til Karl")
    accessible(page)
    page.get_by_role("link", name="Slet dine data").first.click()
    titled(page, "Slet dine data")
    accessible(page)
    page.get_by_role("button", name="Ja, slet mine data").click()
    titled(page, "Dine data er slettet")
    accessible(page)
    assert site.run(people()) == before - 1
    page.goto(f"{site.url}/svar")
    titled(page, "Siden er udløbet")
    accessible(page)


def test_every_other_page_is_accessible(page: Page, site: LiveSite) -> None:
    """The pages the journeys above do not show."""
    page.goto(f"{site.url}/kode")
    titled(page, "Skriv koden fra dit brev")
    accessible(page)
    page.get_by_label("Koden fra dit brev").fill("ABCD-EFGH-JK")
    page.get_by_role("button", name="Fortsæt").click()
    see(page, "Den kode kender vi ikke")
    accessible(page)
    page.goto(f"{site.url}/l/{'A' * 32}")
    titled(page, "Det link kender vi ikke")
    accessible(page)
    page.goto(f"{site.url}/ingen-side")
    titled(page, "Siden findes ikke")
    accessible(page)

    page.goto(f"{site.url}/l/{letter_for(site, 'Bodil')}")
    page.get_by_role("link", name="Svar her").click()
    page.get_by_role("button", name="Ja, jeg vil gerne være med").click()
    page.get_by_role("link", name="Få ikke flere spørgeskemaer").click()
    titled(page, "Ingen flere spørgeskemaer")
    accessible(page)
    page.get_by_role("button", name="Ja, send mig ikke flere spørgeskemaer").click()
    titled(page, "Du får ikke flere spørgeskemaer")
    accessible(page)
    page.get_by_role("button", name="Jeg vil gerne være med igen").click()
    see(page, "Spørgsmål 1 af 7")
    # A long comment is refused with its words kept.
    for _ in range(7):
        page.get_by_role("button", name="Spring over").click()
    page.get_by_label(re.compile("Din kommentar")).fill("ord " * 400)
    page.get_by_role("button", name="Send kommentaren, og afslut").click()
    see(page, "Din kommentar er for lang")
    accessible(page)
