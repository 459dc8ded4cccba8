"""The compose file and the README's proxy set-up serve the web pages where the app
has them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from aiohttp import web

from tests.web.helpers import web_settings
from web import pages

ROOT = Path(__file__).resolve().parents[2]


def test_compose_publishes_the_web_port_the_bot_serves() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    bot = compose["services"]["bot"]
    port = bot["environment"]["WEB_PORT"]
    assert f"127.0.0.1:{port}:{port}" in bot["ports"]
    assert web_settings("sqlite+aiosqlite://").web_port == int(port)


def test_the_readme_proxy_forwards_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    location = re.search(r"location ~ (\S+) \{", readme)
    assert location, "the README has no nginx location for the web pages"
    forwarded = re.compile(location.group(1))
    app = web.Application()
    pages.add_routes(app)
    paths = {
        route.resource.canonical.replace("{token}", "abc")
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical != "/"
    }
    assert paths >= {"/l/abc", "/kode", "/svar", "/svar/data/slet"}
    for path in [*paths, "/static/pejling.css"]:
        assert forwarded.match(path), f"the proxy would not forward {path}"
