"""The reference web pages: bare aiohttp + aiohttp-jinja2, no database, the same templates.

``python -m bench.bare_web --port 8090`` serves the standard survey's seven questions for
a relative in a care home, the comment page and the thanks, rendered from Pejling's own
templates (web/templates, with Pejling's Jinja2 settings, views and catalogs) as
Pejling's pages render them: a POST of an answer (form parsed, 303 to ``/svar``), then
the GET of the next page. Nothing is stored anywhere: where the person is travels in a
plain cookie, as the screen to show travels in the button data of ``bench.bare_bot``.
No session encryption, no CSRF check, no security headers: those are Pejling's work.

``GET /start`` puts a person at the first question.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from storage.enums import Audience, UnitKind
from surveys.journey import CommentPrompt, Question
from surveys.questionnaire.loader import load_surveys
from web.app import STATIC, template_options
from web.i18n import gettext_for
from web.views import comment_view, question_view

AT = "n"  # the cookie that says which page the person is on
CSRF = "bare-web-has-no-csrf-check-000000000000000"


def _steps() -> list[Question | CommentPrompt]:
    survey = load_surveys()["standard"]
    items = survey.items_for(Audience.RELATIVE, UnitKind.CARE_HOME)
    steps: list[Question | CommentPrompt] = []
    for index, item in enumerate(items):
        text = survey.text_for(item, Audience.RELATIVE)
        steps.append(
            Question(
                delivery_id=1,
                index=index,
                total=len(items),
                item=item,
                scale=survey.scale_of(item),
                text=text,
                citizen_name="Borger" if "{name" in text else None,
                name_fallback=survey.name_fallback,
                selected=None,
            )
        )
    comment, total = survey.comment, len(items)
    steps.append(
        CommentPrompt(1, total, total, comment.prompt, comment.warning, comment.max_length)
    )
    return steps


STEPS = _steps()
_ = gettext_for("da")


def _page(request: web.Request, template: str, title: str, extra: dict[str, Any]) -> web.Response:
    context: dict[str, Any] = {
        "_": _,
        "lang": "da",
        "title": title,
        "csrf": CSRF,
        "signed_in": True,
        "municipality": "Testrup Kommune",
        "languages": [("en", "English")],
        "here": "/svar",
        "note": None,
        **extra,
    }
    return aiohttp_jinja2.render_template(template, request, context)


def _at(request: web.Request) -> int:
    value = request.cookies.get(AT, "0")
    return int(value) if value.isdigit() else 0


async def start(request: web.Request) -> web.Response:
    response = web.HTTPSeeOther("/svar")
    response.set_cookie(AT, "0", httponly=True, samesite="Lax")
    raise response


async def current(request: web.Request) -> web.Response:
    at = _at(request)
    if at < len(STEPS):
        step = STEPS[at]
        if isinstance(step, Question):
            view = question_view(step, _, "da")
            return _page(request, "question.html", view.text, {"q": view})
        comment = comment_view(step, _)
        return _page(request, "comment.html", comment.prompt, {"c": comment, "error": None})
    thanks = _(
        "Tak for dine svar! 🌷\n\n"
        "Dine svar hjælper kommunen med at gøre hjælpen og plejen bedre. "
        "Du hører fra os, næste gang der er et spørgeskema."
    ).split("\n\n")
    return _page(request, "thanks.html", thanks[0], {"paragraphs": thanks[1:]})


async def answered(request: web.Request) -> web.Response:
    """An answer or the finish: on to the next page (Back: the one before)."""
    form = await request.post()
    index = form.get("i")
    at = int(index) if isinstance(index, str) and index.isdigit() else _at(request)
    response = web.HTTPSeeOther("/svar")
    response.set_cookie(AT, str(max(0, at - 1) if "back" in form else at + 1), httponly=True)
    raise response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app() -> web.Application:
    app = web.Application(client_max_size=32 * 1024)
    aiohttp_jinja2.setup(app, **template_options())
    app.router.add_get("/start", start)
    app.router.add_get("/svar", current)
    app.router.add_post("/svar", answered)
    app.router.add_post("/svar/kommentar", answered)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", STATIC)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_web", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))
    web.run_app(build_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
