"""The pages: the letter's link, the code, the information, one question per page, the
comment, the thanks, the person's rights. Each POST redirects (303) to a GET, so the
browser's Back and Reload never send an answer twice; every state lives in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from bot.config import Settings
from storage.db import AsyncSession, Sessions
from surveys import journey
from surveys.journey import (
    CommentPrompt,
    Finished,
    LinkKeys,
    LinkOutcome,
    Outcome,
    Question,
    Refusal,
    Visitor,
)
from surveys.journey.information import RightsWay, information
from surveys.privacy import rights as privacy
from surveys.privacy.texts import my_data_text
from web.i18n import LANGUAGE_NAMES, LOCALES, gettext_for, normalise_locale, number_text
from web.security import client_address, csrf_token
from web.views import comment_view, question_view

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
SESSIONS = web.AppKey("sessions", Sessions)

# What the encrypted cookie holds: the respondent, the CSRF token, the language, and a
# one-time note for the next page. No survey state.
RESPONDENT = "respondent"
LANGUAGE = "lang"
NOTE = "note"

# The paths a language switch may send the person back to (never a link's token).
RETURN_PATHS = frozenset(
    {"/kode", "/svar", "/svar/velkommen", "/svar/data", "/svar/data/slet", "/svar/data/stop"}
)
MAX_ROW_ID = 2**31 - 1


# ---------------------------------------------------------------- helpers


def _gettext(session: Session) -> tuple[str, Callable[[str], str]]:
    locale = normalise_locale(session.get(LANGUAGE))
    return locale, gettext_for(locale)


async def render(
    request: web.Request,
    template: str,
    title: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """A page in the person's language, with what every page needs (the CSRF token for
    its forms, the language switch, the links to the person's rights)."""
    session = await get_session(request)
    locale, _ = _gettext(session)
    settings = request.app[SETTINGS]
    here = request.path if request.method == "GET" and request.path in RETURN_PATHS else None
    values: dict[str, Any] = {
        "_": _,
        "lang": locale,
        "title": title,
        "csrf": csrf_token(session),
        "signed_in": RESPONDENT in session,
        "municipality": settings.municipality,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LOCALES if code != locale],
        "here": here or ("/svar" if RESPONDENT in session else "/kode"),
    }
    values.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    return response


async def message_page(
    request: web.Request,
    title: str,
    paragraphs: list[str],
    *,
    status: int = 200,
    link: tuple[str, str] | None = None,
) -> web.Response:
    """A short page that says one thing politely: a heading, a few sentences, a link."""
    return await render(
        request, "message.html", title, {"paragraphs": paragraphs, "link": link}, status=status
    )


def see_other(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def link_keys(request: web.Request) -> LinkKeys | None:
    """What the "Åbn i Telegram" link is derived from, when both are set."""
    settings = request.app[SETTINGS]
    if settings.link_secret is None or not settings.bot_username:
        return None
    return LinkKeys(settings.link_secret.get_secret_value().encode(), settings.bot_username)


def contact_of(request: web.Request, gettext: Callable[[str], str]) -> str:
    return request.app[SETTINGS].contact or gettext("din kommunes ældreområde")


async def _visitor(
    request: web.Request, db: AsyncSession, *, telegram: bool = False
) -> Visitor | None:
    """The person of this browser session; a deleted or departed one leads nowhere. The
    "Åbn i Telegram" link (a read of its own) only with ``telegram``."""
    session = await get_session(request)
    respondent_id = session.get(RESPONDENT)
    if not isinstance(respondent_id, int):
        return None
    links = link_keys(request) if telegram else None
    visitor = await journey.web_visitor(db, respondent_id, links=links)
    if visitor is None:
        session.pop(RESPONDENT, None)
    return visitor


class SessionOver(web.HTTPUnauthorized):
    """No person behind this browser session (the browser was closed, or their data is
    deleted); the error pages (web.app.error_pages) show "Siden er udløbet"."""


async def _the_visitor(
    request: web.Request, db: AsyncSession, *, telegram: bool = False
) -> Visitor:
    """The person of this browser session, or SessionOver."""
    visitor = await _visitor(request, db, telegram=telegram)
    if visitor is None:
        raise SessionOver()
    return visitor


async def _sign_in(request: web.Request, visitor: Visitor) -> None:
    """A fresh session for the person (a new CSRF token too), in their language."""
    old = await get_session(request)
    locale = visitor.locale or old.get(LANGUAGE)
    session = await new_session(request)
    session[RESPONDENT] = visitor.respondent_id
    session[LANGUAGE] = normalise_locale(locale)
    csrf_token(session)


async def _refused_link(request: web.Request, outcome: LinkOutcome) -> web.Response:
    session = await get_session(request)
    _ = _gettext(session)[1]
    contact = contact_of(request, _)
    if outcome == LinkOutcome.THROTTLED:
        response = await message_page(
            request,
            _("Vent lidt, og prøv igen"),
            [
                _(
                    "Der er prøvet for mange forkerte koder. Vent et kvarter, og prøv så igen "
                    "med koden fra dit brev. Kontakt {contact}, hvis det stadig ikke virker."
                ).format(contact=contact)
            ],
            status=429,
        )
        response.headers["Retry-After"] = "900"
        return response
    if outcome == LinkOutcome.CITIZEN_DIED:
        return await message_page(
            request,
            _("Spørgeskemaet er ikke længere åbent"),
            [
                _(
                    "Vi har fået at vide, at borgeren er død. Derfor sender vi ikke flere "
                    "spørgeskemaer om borgeren. Vi beklager, hvis brevet kom på et svært "
                    "tidspunkt."
                ),
                _("Har du spørgsmål, så kontakt {contact}.").format(contact=contact),
            ],
            status=410,
        )
    if outcome == LinkOutcome.CITIZEN_MOVED:
        return await message_page(
            request,
            _("Spørgeskemaet er ikke længere åbent"),
            [
                _(
                    "Borgeren får ikke længere hjælp fra den enhed, spørgeskemaet handler om. "
                    "Derfor er det lukket. Tak for din interesse!"
                ),
                _("Har du spørgsmål, så kontakt {contact}.").format(contact=contact),
            ],
            status=410,
        )
    return await message_page(
        request,
        _("Det link kender vi ikke"),
        [
            _(
                "Det link kender jeg ikke. Tjek, at du har brugt hele linket eller QR-koden "
                "fra dit brev. Virker det stadig ikke, så kontakt {contact}."
            ).format(contact=contact)
        ],
        status=404,
        link=("/kode", _("Skriv koden fra brevet")),
    )


# ---------------------------------------------------------------- getting in


async def front(request: web.Request) -> web.Response:
    """The bare address: where to type the code."""
    raise see_other("/kode")


async def letter_link(request: web.Request) -> web.Response:
    """The letter's link: exchanged for the session cookie, then away from the address
    bar (303), so the token stays out of history and Referer headers."""
    token = request.match_info["token"]
    async with request.app[SESSIONS]() as db:
        outcome, visitor = await journey.open_web_link(db, token, links=link_keys(request))
        await db.commit()
    if outcome != LinkOutcome.OK or visitor is None:
        return await _refused_link(request, outcome)
    await _sign_in(request, visitor)
    raise see_other("/svar/velkommen")


async def code_form(request: web.Request) -> web.Response:
    session = await get_session(request)
    _ = _gettext(session)[1]
    return await render(request, "code.html", _("Skriv koden fra dit brev"), {"error": None})


async def code_given(request: web.Request) -> web.Response:
    form = await request.post()
    typed = form.get("kode")
    session = await get_session(request)
    _ = _gettext(session)[1]
    settings = request.app[SETTINGS]
    client = client_address(request, trust_proxy=settings.web_trust_proxy)
    async with request.app[SESSIONS]() as db:
        outcome, visitor = await journey.open_web_code(
            db, typed if isinstance(typed, str) else "", client=client, links=link_keys(request)
        )
        await db.commit()
    if outcome == LinkOutcome.OK and visitor is not None:
        await _sign_in(request, visitor)
        raise see_other("/svar/velkommen")
    if outcome == LinkOutcome.UNKNOWN:
        # Unknown, expired and used codes alike: the same page, the same words.
        return await render(
            request,
            "code.html",
            _("Skriv koden fra dit brev"),
            {
                "error": _(
                    "Den kode kender vi ikke. Tjek, at du har skrevet alle 10 tegn fra brevet. "
                    "Virker det stadig ikke, så kontakt {contact}."
                ).format(contact=contact_of(request, _))
            },
        )
    return await _refused_link(request, outcome)


async def welcome(request: web.Request) -> web.Response:
    """The landing page: answer here, or in Telegram."""
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db, telegram=True)
    session = await get_session(request)
    _ = _gettext(session)[1]
    return await render(
        request,
        "welcome.html",
        _("Spørgeskema fra {municipality}").format(municipality=request.app[SETTINGS].municipality),
        {"telegram_link": visitor.telegram_link},
    )


# ---------------------------------------------------------------- the survey


async def survey(request: web.Request) -> web.Response:
    """Whatever is next for the person: the information, a question, the comment, the
    thanks, or that nothing is open."""
    session = await get_session(request)
    locale, _ = _gettext(session)
    note = session.pop(NOTE, None)
    respondent_id = session.get(RESPONDENT)
    if not isinstance(respondent_id, int):
        raise SessionOver()
    async with request.app[SESSIONS]() as db:
        # The person and their current step together: two reads on most pages.
        visitor, shown = await journey.web_survey(db, respondent_id)
        if visitor is None:
            session.pop(RESPONDENT, None)
            raise SessionOver()
        if visitor.stopped:
            return await render(request, "stopped.html", _("Du får ikke flere spørgeskemaer"))
        if not visitor.informed:
            return await _information(request, locale, _)
        await db.commit()
    notes = {
        "stale": _("Det spørgsmål er allerede besvaret. Her er, hvor du er nået til."),
        "closed": _("Dette spørgeskema er lukket. Tak for din interesse!"),
        "saved": _("Tak, din kommentar er gemt."),
    }
    note_text = notes.get(note) if isinstance(note, str) else None
    return await _show(request, shown, locale, _, note_text)


async def _show(
    request: web.Request,
    shown: Question | CommentPrompt | Finished | None,
    locale: str,
    _: Callable[[str], str],
    note: str | None,
) -> web.Response:
    if isinstance(shown, Question):
        view = question_view(shown, _, locale)
        return await render(request, "question.html", view.text, {"q": view, "note": note})
    if isinstance(shown, CommentPrompt):
        view_c = comment_view(shown, _)
        return await render(
            request, "comment.html", view_c.prompt, {"c": view_c, "note": note, "error": None}
        )
    if isinstance(shown, Finished):
        thanks = _(
            "Tak for dine svar! 🌷\n\n"
            "Dine svar hjælper kommunen med at gøre hjælpen og plejen bedre. "
            "Du hører fra os, næste gang der er et spørgeskema."
        ).split("\n\n")
        return await render(
            request, "thanks.html", thanks[0], {"paragraphs": thanks[1:], "note": note}
        )
    return await render(
        request,
        "message.html",
        _("Intet spørgeskema lige nu"),
        {
            "paragraphs": [
                _(
                    "Der er ikke noget spørgeskema til dig lige nu. "
                    "Du hører fra os, når der kommer et nyt."
                )
            ],
            "link": None,
            "note": note,
        },
    )


async def _information(request: web.Request, locale: str, _: Callable[[str], str]) -> web.Response:
    settings = request.app[SETTINGS]
    words = information(
        _,
        municipality=settings.municipality,
        months=number_text(settings.retention_months, locale),
        contact=contact_of(request, _),
        rights=RightsWay.WEB,
    )
    return await render(request, "information.html", _("Før du svarer"), {"info": words})


def _row_id(form: Any, name: str) -> int | None:
    value = form.get(name)
    if isinstance(value, str) and value.isdigit() and int(value) <= MAX_ROW_ID:
        return int(value)
    return None


def _note_for(outcome: Outcome) -> str | None:
    if outcome.refusal in (Refusal.STALE, Refusal.NOT_YOURS, Refusal.INVALID):
        return "stale"
    if outcome.refusal == Refusal.CLOSED:
        return "closed"
    return None


async def information_answered(request: web.Request) -> web.Response:
    form = await request.post()
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
        if form.get("choice") == "yes":
            await journey.web_accept_information(db, visitor.respondent_id)
            await db.commit()
            raise see_other("/svar")
        await journey.web_stop(db, visitor.respondent_id)
        await db.commit()
    session = await get_session(request)
    _ = _gettext(session)[1]
    return await message_page(
        request,
        _("Tak for svar"),
        [
            _(
                "Det er helt i orden. Du får ingen spørgeskemaer, og din hjælp er den samme. "
                "Fortryder du, kan du altid åbne linket fra brevet igen."
            )
        ],
    )


async def answer_given(request: web.Request) -> web.Response:
    form = await request.post()
    delivery_id, index = _row_id(form, "d"), _row_id(form, "i")
    choice = form.get("choice")
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
        if delivery_id is None or index is None:
            outcome = Outcome(refusal=Refusal.STALE)
        elif "back" in form:
            outcome = await journey.web_back(db, visitor.respondent_id, delivery_id, index)
        elif isinstance(choice, str) and len(choice) <= 8:
            outcome = await journey.web_answer(
                db, visitor.respondent_id, delivery_id, index, choice
            )
        else:
            outcome = Outcome(refusal=Refusal.INVALID)
        await db.commit()
    note = _note_for(outcome)
    if note is not None:
        (await get_session(request))[NOTE] = note
    raise see_other("/svar")


async def comment_given(request: web.Request) -> web.Response:
    form = await request.post()
    delivery_id = _row_id(form, "d")
    text = form.get("kommentar")
    session = await get_session(request)
    _ = _gettext(session)[1]
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
        if delivery_id is None:
            outcome = Outcome(refusal=Refusal.STALE)
        elif "back" in form:
            outcome = await journey.web_back(
                db, visitor.respondent_id, delivery_id, _row_id(form, "i") or 0
            )
        else:
            comment = text.strip() if isinstance(text, str) and "finish" not in form else None
            outcome = await journey.web_comment(
                db, visitor.respondent_id, delivery_id, comment or None
            )
        await db.commit()
    if outcome.refusal == Refusal.TOO_LONG and isinstance(outcome.shown, CommentPrompt):
        view = comment_view(outcome.shown, _)
        assert isinstance(text, str)
        error = _(
            "Din kommentar er for lang: {length} tegn. Der er plads til {limit} tegn. "
            "Prøv at gøre den kortere, og send den igen."
        ).format(length=len(text.strip()), limit=view.max_length)
        return await render(
            request,
            "comment.html",
            view.prompt,
            {"c": view, "note": None, "error": error, "text": text},
            status=400,
        )
    note = _note_for(outcome)
    if note is None and isinstance(text, str) and text.strip() and "finish" not in form:
        note = "saved" if outcome.refusal is None and "back" not in form else None
    if note is not None:
        session[NOTE] = note
    raise see_other("/svar")


async def language_chosen(request: web.Request) -> web.Response:
    """The language switch: remembered in the session, and for a known person in the
    database, then back to the page the switch was on."""
    form = await request.post()
    chosen = form.get("lang")
    back = form.get("next")
    session = await get_session(request)
    if isinstance(chosen, str) and chosen in LOCALES:
        session[LANGUAGE] = chosen
        async with request.app[SESSIONS]() as db:
            visitor = await _visitor(request, db)
            if visitor is not None:
                await journey.web_set_locale(db, visitor.respondent_id, chosen)
                await db.commit()
    raise see_other(back if isinstance(back, str) and back in RETURN_PATHS else "/svar")


# ---------------------------------------------------------------- rights


async def my_data(request: web.Request) -> web.Response:
    session = await get_session(request)
    locale, _ = _gettext(session)
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
        data = await privacy.web_my_data(
            db, visitor.respondent_id, retention_months=request.app[SETTINGS].retention_months
        )
    if data is None:
        raise SessionOver()
    # The chat's words (surveys/privacy/texts.py); the page shows the facts as a list and
    # Jinja2 escapes the names.
    text = my_data_text(data, _, locale)
    lines = [line.removeprefix("• ") for line in text.kept]
    after = text.deletion
    return await render(
        request, "my_data.html", _("Det har vi gemt om dig"), {"lines": lines, "after": after}
    )


async def delete_form(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as db:
        await _the_visitor(request, db)
    session = await get_session(request)
    _ = _gettext(session)[1]
    return await render(request, "delete.html", _("Slet dine data"))


async def delete_confirmed(request: web.Request) -> web.Response:
    form = await request.post()
    session = await get_session(request)
    _ = _gettext(session)[1]
    if form.get("confirm") != "yes":
        raise see_other("/svar/data")
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
        await privacy.web_delete_my_data(db, visitor.respondent_id)
        await db.commit()
    locale = session.get(LANGUAGE)
    session.invalidate()
    fresh = await new_session(request)
    fresh[LANGUAGE] = normalise_locale(locale)
    return await message_page(
        request,
        _("Dine data er slettet"),
        [
            _(
                "Dine data er slettet. Tak for din tid. "
                "Vil du være med igen senere, skal du bruge et nyt link fra kommunen."
            )
        ],
    )


async def stop_form(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
    session = await get_session(request)
    _ = _gettext(session)[1]
    if visitor.stopped:
        return await render(request, "stopped.html", _("Du får ikke flere spørgeskemaer"))
    return await render(request, "stop.html", _("Ingen flere spørgeskemaer"))


async def stop_confirmed(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
        await journey.web_stop(db, visitor.respondent_id)
        await db.commit()
    raise see_other("/svar/data/stop")


async def resume(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as db:
        visitor = await _the_visitor(request, db)
        await journey.web_resume(db, visitor.respondent_id)
        await db.commit()
    raise see_other("/svar")


def add_routes(app: web.Application) -> None:
    """Every page; GETs show, POSTs change and redirect."""
    app.router.add_get("/", front)
    app.router.add_get("/l/{token}", letter_link)
    app.router.add_get("/kode", code_form)
    app.router.add_post("/kode", code_given)
    app.router.add_get("/svar/velkommen", welcome)
    app.router.add_get("/svar", survey)
    app.router.add_post("/svar", answer_given)
    app.router.add_post("/svar/information", information_answered)
    app.router.add_post("/svar/kommentar", comment_given)
    app.router.add_post("/svar/sprog", language_chosen)
    app.router.add_get("/svar/data", my_data)
    app.router.add_get("/svar/data/slet", delete_form)
    app.router.add_post("/svar/data/slet", delete_confirmed)
    app.router.add_get("/svar/data/stop", stop_form)
    app.router.add_post("/svar/data/stop", stop_confirmed)
    app.router.add_post("/svar/data/fortsaet", resume)
