"""A person on the web pages without a browser: an aiohttp client session that keeps the
cookie, and the pages read as a person reads them (the heading, the answer buttons, the
forms and their hidden fields, the CSRF token among them), with the standard library's
HTML parser. The demo's web people and the web benchmark use it.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from html.parser import HTMLParser

import aiohttp


@dataclass(frozen=True)
class Button:
    name: str
    value: str
    words: str  # what it says, without the marks for the eye or the screen reader alone
    selected: bool = False  # the answer given before (after Back)


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden inputs: csrf, d, i, ...
    buttons: list[Button] = field(default_factory=list)
    textareas: list[str] = field(default_factory=list)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: dict[str, str] = {}  # the words of a link -> its address
        self.h1 = ""
        self.progress = ""
        self._form: Form | None = None
        self._button: tuple[str, str, bool] | None = None
        self._spans: list[bool] = []  # open spans: whether each hides its words
        self._link: str | None = None
        self._text: list[str] = []
        self._capture: str | None = None  # h1, progress, button or link being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(action=values.get("action", ""))
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and values.get("type") == "hidden":
            self._form.fields[values.get("name", "")] = values.get("value", "")
        elif tag == "textarea" and self._form is not None:
            self._form.textareas.append(values.get("name", ""))
        elif tag == "button":
            selected = "selected" in values.get("class", "").split()
            self._button = (values.get("name", ""), values.get("value", ""), selected)
            self._start("button")
        elif tag == "span":
            self._spans.append(
                values.get("aria-hidden") == "true" or values.get("class") == "visually-hidden"
            )
        elif tag == "a":
            self._link = values.get("href", "")
            self._start("link")
        elif tag == "h1":
            self._start("h1")
        elif tag == "p" and values.get("class") == "progress":
            self._start("progress")

    def _start(self, what: str) -> None:
        self._capture, self._text = what, []

    def handle_data(self, data: str) -> None:
        if self._capture is not None and not any(self._spans):
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        words = " ".join("".join(self._text).split())
        if tag == "span" and self._spans:
            self._spans.pop()
        elif tag == "form":
            self._form = None
        elif tag == "button" and self._capture == "button" and self._button is not None:
            if self._form is not None:
                name, value, selected = self._button
                self._form.buttons.append(Button(name, value, words, selected))
            self._button, self._capture = None, None
        elif tag == "a" and self._capture == "link" and self._link is not None:
            self.links[words] = self._link
            self._link, self._capture = None, None
        elif tag == "h1" and self._capture == "h1":
            self.h1, self._capture = words, None
        elif tag == "p" and self._capture == "progress":
            self.progress, self._capture = words, None


@dataclass
class Page:
    """A page as the person sees it."""

    url: str
    status: int
    html: str
    h1: str
    progress: str
    forms: list[Form]
    links: dict[str, str]

    @classmethod
    def read(cls, url: str, status: int, html: str) -> Page:
        parser = _PageParser()
        parser.feed(html)
        parser.close()
        return cls(url, status, html, parser.h1, parser.progress, parser.forms, parser.links)

    def buttons(self) -> list[str]:
        """The words of every button on the page."""
        return [button.words for form in self.forms for button in form.buttons]

    def button(self, words: str) -> tuple[Form, Button]:
        for form in self.forms:
            for button in form.buttons:
                if button.words == words:
                    return form, button
        raise LookupError(f"no button {words!r} on {self.url} ({self.h1!r}): {self.buttons()}")


class WebPerson:
    """One person's browser: a cookie jar of its own (the session cookie), redirects
    followed, forms sent as the page holds them."""

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        # unsafe=True: keep cookies from an IP address such as 127.0.0.1.
        self.client = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        self.page: Page | None = None

    async def __aenter__(self) -> WebPerson:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.close()

    def _url(self, address: str) -> str:
        return address if address.startswith("http") else f"{self.base_url}{address}"

    async def open(self, address: str) -> Page:
        """Open an address (the letter's link, a page), following its redirects."""
        async with self.client.get(self._url(address)) as response:
            self.page = Page.read(str(response.url), response.status, await response.text())
        return self.page

    async def follow(self, words: str) -> Page:
        """Follow the link with these words on the current page."""
        assert self.page is not None
        if words not in self.page.links:
            raise LookupError(f"no link {words!r} on {self.page.url}: {list(self.page.links)}")
        return await self.open(self.page.links[words])

    async def press(self, words: str, typed: dict[str, str] | None = None) -> Page:
        """Press the button with these words: its form is sent (hidden fields, what was
        typed, the button's own name and value) and the page it leads to is shown."""
        assert self.page is not None
        form, button = self.page.button(words)
        data = {**form.fields, **(typed or {})}
        if button.name:
            data[button.name] = button.value
        async with self.client.post(self._url(form.action), data=data) as response:
            self.page = Page.read(str(response.url), response.status, await response.text())
        return self.page


async def wait_until_served(base_url: str, *, timeout: float = 60.0) -> None:
    """Until the pages at ``base_url`` answer their /healthz with 200."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client:
        while True:
            try:
                async with client.get(f"{base_url.rstrip('/')}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass  # not listening yet
            if loop.time() > deadline:
                raise RuntimeError(f"the web pages did not answer at {base_url}")
            await asyncio.sleep(0.1)


def free_port() -> int:
    """A loopback port nobody listens on now, for web pages to be served on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
