"""Draw the picture of a question page on a phone shown in the README (docs/web-question.png).

    scripts/web-picture [docs/web-question.png] [--lang en]

Serves the web pages on a scratch SQLite database with a made-up care home, citizen and
relative's letter, opens the letter's link in headless Debian chromium (Playwright, as
the browser tests do) on a phone's width, 390 px, accepts the information, answers two
questions, and photographs the third question page.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from playwright.async_api import async_playwright

from bot.config import Settings
from demo.browser import free_port
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import InviteRole, RoundAudience
from storage.types import utcnow
from surveys.fieldwork import rounds
from surveys.questionnaire.loader import load_surveys
from surveys.registry import people
from surveys.registry.invites import issue_invites, web_link
from web.app import build_web_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Made up: they open nothing anywhere but this scratch database.
LINK_SECRET = "picture-link-secret-0123456789abcdefghijklm"
SESSION_SECRET = "picture-session-secret-0123456789abcdefghij"
WIDTH, HEIGHT = 390, 844  # a common phone's viewport, in CSS pixels


async def draw(output: Path, lang: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pejling-picture-") as folder:
        database_url = f"sqlite+aiosqlite:///{Path(folder) / 'pejling.db'}"
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        engine = create_engine(database_url)
        try:
            await upgrade(engine)
            sessions = session_factory(engine)
            async with sessions() as session:
                unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
                citizen = await people.add_citizen(session, unit, "Anna")
                [letter] = await issue_invites(
                    session,
                    InviteRole.RELATIVE,
                    ttl=timedelta(days=30),
                    citizen_id=citizen.id,
                    secret=LINK_SECRET.encode(),
                )
                await rounds.start_round(
                    session,
                    load_surveys()["standard"],
                    [unit],
                    RoundAudience.BOTH,
                    utcnow() + timedelta(days=14),
                )
                await session.commit()
            settings = Settings(
                database_url=database_url,
                municipality="Testrup Kommune",
                contact="Ældreservice, tlf. 70 11 22 33",
                bot_username="testrup_pejling_bot",
                public_url=base_url,
                link_secret=LINK_SECRET,
                web_session_secret=SESSION_SECRET,
            )
            runner = web.AppRunner(build_web_app(settings, sessions, engine), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            try:
                await _photograph(web_link(base_url, letter.token), output, lang)
            finally:
                await runner.cleanup()
        finally:
            await engine.dispose()


async def _photograph(link: str, output: Path, lang: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT},
                device_scale_factor=2,
                locale="da-DK",
                is_mobile=True,
                has_touch=True,
            )
            page = await context.new_page()
            await page.goto(link)
            if lang == "en":
                await page.get_by_role("button", name="English").click()
            await page.get_by_role(
                "link", name="Answer here" if lang == "en" else "Svar her"
            ).click()
            await page.get_by_role(
                "button",
                name="Yes, I would like to take part"
                if lang == "en"
                else "Ja, jeg vil gerne være med",
            ).click()
            # Two answers, so the page shows where the person is and the Back button.
            for _ in range(2):
                await page.locator("button.answer").first.click()
            await page.screenshot(path=str(output))
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=Path("docs/web-question.png"))
    parser.add_argument("--lang", default="da", choices=["da", "en"])
    args = parser.parse_args()
    asyncio.run(draw(args.output, args.lang))
    print(f"{args.output} drawn")


if __name__ == "__main__":
    main()
