"""The web application: templates, static files, sessions, CSRF, headers, pages."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp_session import get_session

from bot.config import Settings
from storage.db import AsyncEngine, Sessions, database_state
from web import pages
from web.i18n import gettext_for, normalise_locale
from web.security import (
    HTTPS_KEY,
    MAX_REQUEST_BYTES,
    CsrfRefused,
    add_security_headers,
    csrf_middleware,
    setup_cookie_sessions,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
ENGINE = web.AppKey("engine", AsyncEngine)
#: Requests handled at the same time. In `pejling run` the pages share the database pool
#: with the bot (storage.db.POOL_SIZE): a burst of people opening their letters waits its
#: turn here, not in the pool, where a wait of 30 s ends in an error page and holds up the
#: presses in the chat too. The same bound as the bot's updates (bot.app.UPDATES_AT_ONCE).
REQUESTS_AT_ONCE = 16


def template_options() -> dict[str, Any]:
    """Jinja2's settings: autoescape on for every template (names and texts come from
    files a municipality edits), and an unknown name is an error, not a blank. Templates
    are read once per process (no look at the file's time on every page): they change
    only with a new version of Pejling, which restarts the process."""
    return {
        "loader": jinja2.FileSystemLoader(TEMPLATES),
        "auto_reload": False,
        "autoescape": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "undefined": jinja2.StrictUndefined,
    }


def build_web_app(settings: Settings, sessions: Sessions, engine: AsyncEngine) -> web.Application:
    """The pages on one aiohttp application; needs WEB_SESSION_SECRET."""
    secret = settings.require_web_secret()
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[pages.SETTINGS] = settings
    app[pages.SESSIONS] = sessions
    app[ENGINE] = engine
    https = (settings.public_url or "").startswith("https://")
    app[HTTPS_KEY] = https
    # Requests wait their turn first; then the session's middleware, so a page made of an
    # error still sets the cookie; then the error pages; then CSRF, whose refusal they
    # turn into a page.
    app.middlewares.append(taking_turns(REQUESTS_AT_ONCE))
    setup_cookie_sessions(app, secret, secure=https)
    app.middlewares.append(error_pages)
    app.middlewares.append(csrf_middleware)
    aiohttp_jinja2.setup(app, **template_options())
    app.on_response_prepare.append(add_security_headers)
    pages.add_routes(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", STATIC, append_version=False)
    return app


async def healthz(request: web.Request) -> web.Response:
    """The web pages answer, and their database too."""
    database = await database_state(request.app[ENGINE])
    healthy = database == "ok"
    return web.json_response(
        {"status": "ok" if healthy else "unhealthy", "web": "ok", "database": database},
        status=200 if healthy else 503,
    )


def taking_turns(limit: int) -> Middleware:
    """At most ``limit`` requests of this application in its handlers at once (the static
    files, which touch no database, go straight through); the rest wait in turn."""
    gate = asyncio.Semaphore(limit)

    @web.middleware
    async def wait_for_turn(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        async with gate:
            return await handler(request)

    return wait_for_turn


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors a person can meet (a forged or expired form, a session that leads to
    no one, a page that does not exist, a too big form) as a page in their language, with
    the same status."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or request.path.startswith("/static/"):
            raise
        session = await get_session(request)
        _ = gettext_for(normalise_locale(session.get(pages.LANGUAGE)))
        link = (
            ("/svar", _("Til spørgeskemaet"))
            if pages.RESPONDENT in session
            else ("/kode", _("Skriv koden fra brevet"))
        )
        if isinstance(error, pages.SessionOver):
            title = _("Siden er udløbet")
            words = [
                _(
                    "Vi kan ikke se, hvem du er. Det sker, når browseren har været lukket, "
                    "eller når dine data er slettet."
                ),
                _("Brug linket eller QR-koden fra dit brev igen, eller skriv koden fra brevet."),
            ]
            link = ("/kode", _("Skriv koden fra brevet"))
        elif isinstance(error, CsrfRefused):
            title = _("Siden var for gammel")
            words = [
                _(
                    "Formularen kom fra en side, der er for gammel, eller browseren har glemt, "
                    "hvem du er. Gå tilbage til spørgeskemaet, og prøv igen."
                )
            ]
        elif error.status == 413:
            title = _("For meget tekst")
            words = [_("Det, du sendte, var for langt. Gå tilbage, og gør det kortere.")]
        elif error.status == 404:
            title = _("Siden findes ikke")
            words = [_("Den side findes ikke. Brug linket eller koden fra dit brev.")]
        else:
            title = _("Noget gik galt")
            words = [_("Siden kunne ikke vises. Prøv igen om lidt.")]
        return await pages.message_page(request, title, words, status=error.status, link=link)
