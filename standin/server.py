"""A local HTTP server that speaks (the part of) the Telegram Bot API the bot uses.

Telegram is unreachable from the test and demo machines, so the bot talks to this server
instead: a real ``aiogram.Bot`` pointed at :attr:`BotAPIStandIn.api_server` sends real HTTP
requests, and the stand-in answers them the way Telegram would, including Telegram's
limits and error shapes, so that the bot's error handling is exercised for real.

Tests drive the other side of the conversation through :class:`standin.person.Person`
(``standin.person(user_id)``), inject raw updates with :meth:`BotAPIStandIn.inject_update`,
and inspect what the bot did through :attr:`BotAPIStandIn.calls` and
:meth:`BotAPIStandIn.chat`. Everything runs in the caller's event loop; waiting for the
bot is event-driven (:meth:`BotAPIStandIn.wait_for`), never a sleep.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import math
import mimetypes
import random
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal, Self

from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from .formatting import EntityParseError, parse_formatted
from .models import ApiCall, ChatMessage, MessageRevision, StoredFile, UploadedFile
from .person import Person

__all__ = ["ApiError", "BotAPIStandIn"]

Params = dict[str, Any]
_Handler = Callable[[Params], Awaitable[Any]]

# Telegram's limits, from the Bot API reference (https://core.telegram.org/bots/api):
# sendMessage text 1-4096 characters after entity parsing, caption 0-1024,
# callback_data 1-64 bytes, answerCallbackQuery text 0-200 characters.
# Text length counts characters (code points), not UTF-16 units: measured against the
# real API with astral emoji in FerroxLabs/wayland#934 (4096 accepted, 4097 refused).
MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200
# Not in the reference, but what Telegram enforces on an inline keyboard: at most 100
# buttons (eternnoir/pyTelegramBotAPI#511, tginfo/Telegram-Limits#228).
MAX_INLINE_BUTTONS: Final = 100
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
MAX_POLL_TIMEOUT: Final = 50  # seconds; Telegram does not hold a long poll much longer

# Update types Telegram leaves out when allowed_updates is empty or was never set.
_OPT_IN_UPDATE_TYPES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"},
)

# Parameters that are strings in the Bot API and must never be "decoded": a message text
# of "123" or "[1]" is text, not a number or a list.
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "parse_mode",
        "action",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "title",
        "description",
        "short_description",
        "name",
        "inline_message_id",
        "file_id",
        "document",
        "photo",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "thumbnail",
        "question",
        "explanation",
    },
)
_INT_RE: Final = re.compile(r"-?\d+")

_STATUS_TEXT: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Telegram's exact wording, so that code matching on descriptions behaves as in production.
# Where the texts were seen: "message is too long" yagop/node-telegram-bot-api#223;
# "BUTTON_DATA_INVALID" python-telegram-bot/python-telegram-bot#528 and
# nickoala/telepot#293 (66 bytes refused); "MESSAGE_TOO_LONG" from answerCallbackQuery
# eternnoir/pyTelegramBotAPI#500; "reply markup is too long" eternnoir/pyTelegramBotAPI#511;
# the "can't parse entities: ..." details are tdlib's (see formatting.py).
ERR_TOO_LONG: Final = "Bad Request: message is too long"
ERR_TEXT_EMPTY: Final = "Bad Request: message text is empty"
ERR_CAPTION_TOO_LONG: Final = "Bad Request: message caption is too long"
ERR_BUTTON_DATA: Final = "Bad Request: BUTTON_DATA_INVALID"
ERR_CALLBACK_ANSWER_TOO_LONG: Final = "Bad Request: MESSAGE_TOO_LONG"
ERR_MARKUP_TOO_LONG: Final = "Bad Request: reply markup is too long"
ERR_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
ERR_EDIT_NOT_FOUND: Final = "Bad Request: message to edit not found"
ERR_DELETE_NOT_FOUND: Final = "Bad Request: message to delete not found"
ERR_CANT_EDIT: Final = "Bad Request: message can't be edited"
ERR_NO_TEXT: Final = "Bad Request: there is no text in the message to edit"
ERR_CHAT_NOT_FOUND: Final = "Bad Request: chat not found"
ERR_BLOCKED: Final = "Forbidden: bot was blocked by the user"
ERR_QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
ERR_MARKUP: Final = "Bad Request: can't parse reply keyboard markup JSON object"
ERR_TEXT_BUTTONS: Final = "Bad Request: text buttons are unallowed in the inline keyboard"
ERR_BAD_FILE: Final = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_EMPTY_FILE: Final = "Bad Request: file must be non-empty"
ERR_COMMAND: Final = "Bad Request: BOT_COMMAND_INVALID"
ERR_WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
ERR_POLL_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")

# What a request meets while Telegram, or the way to it, is down (see BotAPIStandIn.outage):
# the connection closed without an answer, Telegram's own 502 in its JSON shape, or a
# proxy's HTML error page (which is not JSON, so aiogram cannot even read it).
Outage = Literal["disconnect", "bad_gateway", "gateway_page"]
OUTAGES: Final[tuple[Outage, ...]] = ("disconnect", "bad_gateway", "gateway_page")
_GATEWAY_PAGE: Final = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
#: The status recorded for a request whose connection was closed without an answer.
DISCONNECTED: Final = 0


class ApiError(Exception):
    """An error answer in Telegram's shape: ``{"ok": false, "error_code", "description"}``."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram would send for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def default_description(status: int, retry_after: int | None = None) -> str:
    """Telegram's generic description for an HTTP status."""
    if status == 429:
        return f"Too Many Requests: retry after {retry_after or 1}"
    return _STATUS_TEXT.get(status, "Error")


def _decode_value(key: str, value: Any) -> Any:
    """Undo aiogram's form encoding of one parameter.

    aiogram sends plain strings as they are and everything else JSON-encoded (numbers,
    booleans, objects, lists), see ``BaseSession.prepare_value``.
    """
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    if _INT_RE.fullmatch(value):
        return int(value)
    return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    return None


def _inline_part(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Only inline keyboards belong to a message; reply keyboards belong to the chat."""
    if markup is not None and "inline_keyboard" in markup:
        return markup
    return None


def _update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _png_size(data: bytes) -> tuple[int, int]:
    # Good enough for plausible PhotoSize fields; other formats get a placeholder size.
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 1, 1


@dataclass
class _Fault:
    method: str  # lower-case method name
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class _FractionFault:
    fraction: float
    status: int
    description: str
    retry_after: int | None
    rng: random.Random


@dataclass
class _Window:
    """Sliding window for the rate limiter: ``capacity`` calls per ``span`` seconds."""

    capacity: int
    span: float
    stamps: deque[float] = field(default_factory=deque)

    @classmethod
    def per_second(cls, rate: float) -> _Window:
        capacity = max(1, math.floor(rate))
        return cls(capacity=capacity, span=capacity / rate)

    def retry_after(self, now: float) -> int | None:
        while self.stamps and now - self.stamps[0] >= self.span:
            self.stamps.popleft()
        if len(self.stamps) < self.capacity:
            return None
        return max(1, math.ceil(self.stamps[0] + self.span - now))


class BotAPIStandIn:
    """In-process Telegram Bot API server for tests and demos.

    Use as ``async with BotAPIStandIn() as standin: ...`` (or ``await start()`` /
    ``await stop()``) and point aiogram at it with
    ``AiohttpSession(api=standin.api_server)``.
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "pejling_test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._closing = False

        bot_id = _as_int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": bot_id if bot_id is not None else 123456,
            "is_bot": True,
            "first_name": "Pejling",
            "username": bot_username,
        }

        #: Every request received, in order (including failed ones and getUpdates).
        self.calls: list[ApiCall] = []
        #: update_ids in the order getUpdates handed them out (replays appear twice).
        self.deliveries: list[int] = []
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None

        self._users: dict[int, dict[str, Any]] = {}
        self._known_chats: set[int] = set()
        self._blocked: set[int] = set()
        self._messages: dict[int, list[ChatMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        # Per chat: message_id of every successful bot send or edit, in order. Person
        # counts entries here to know when the bot has answered.
        self._bot_events: dict[int, list[int]] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)

        self._updates: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []  # sorted by update_id, not yet acknowledged
        self._replays: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._waiting_polls = 0

        self._open_callbacks: set[str] = set()
        self._callback_updates: dict[str, int] = {}
        self._commands: dict[tuple[str, int | None, int | None, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}

        self._faults: list[_Fault] = []
        self._fraction_faults: dict[str, _FractionFault] = {}
        self._outage: Outage | None = None
        self._global_window: _Window | None = None
        self._chat_rate: float | None = None
        self._chat_windows: dict[int, _Window] = {}

        self._waiters: set[asyncio.Future[None]] = set()
        self._handlers: dict[str, tuple[str, _Handler]] = {}
        for name, handler in self._method_table().items():
            self._handlers[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening; after this :attr:`url` is valid."""
        if self._runner is not None:
            return
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_post("/_standin/updates", self._control_update)
        app.router.add_post("/_standin/send", self._control_send)
        app.router.add_post("/_standin/press", self._control_press)
        app.router.add_post("/_standin/delete", self._control_delete)
        app.router.add_get("/_standin/chats/{chat_id}", self._control_chat)
        app.router.add_get("/_standin/calls", self._control_calls)
        # handler_cancellation: when aiogram abandons a long poll (polling stopped), the
        # waiting handler is cancelled instead of lingering until its timeout.
        runner = web.AppRunner(
            app,
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        if self._runner is None:
            return
        self._closing = True
        self._notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (useful with ``port=0``)."""
        if self._port is None:
            raise RuntimeError("BotAPIStandIn is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8081``, for ``TelegramAPIServer.from_base``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_server(self) -> TelegramAPIServer:
        """aiogram's server description pointing at this stand-in."""
        return TelegramAPIServer.from_base(self.url)

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        """Wake every waiter so it re-checks its predicate."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self, predicate: Callable[[], object], timeout: float) -> bool:
        """Wait until ``predicate()`` is true; False on timeout. Checked on every change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await waiter
            finally:
                self._waiters.discard(waiter)
        return True

    async def wait_for(
        self,
        predicate: Callable[[], object],
        *,
        timeout: float = 5.0,
        message: str | None = None,
    ) -> None:
        """Wait until ``predicate()`` is true, re-checking after every API call or update.

        :raises AssertionError: on timeout, listing the last few calls the bot made.
        """
        if not await self._wait(predicate, timeout):
            what = message or "condition not met"
            raise AssertionError(f"{what} within {timeout}s\n{self.describe_calls()}")

    async def wait_for_call(
        self,
        method: str,
        where: Callable[[ApiCall], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,
    ) -> ApiCall:
        """Wait for a call of ``method`` (at index ``since`` or later) matching ``where``."""
        key = method.lower()

        def find() -> ApiCall | None:
            for call in self.calls[since:]:
                if call.method.lower() == key and (where is None or where(call)):
                    return call
            return None

        await self.wait_for(
            lambda: find() is not None,
            timeout=timeout,
            message=f"no matching {method} call",
        )
        found = find()
        assert found is not None
        return found

    def describe_calls(self, last: int = 8) -> str:
        """Human-readable summary of the last calls (without getUpdates), for assertions."""
        relevant = [call for call in self.calls if call.method != "getUpdates"][-last:]
        if not relevant:
            return "the bot made no API calls (besides getUpdates)"
        lines = [f"last {len(relevant)} calls (without getUpdates):"]
        for call in relevant:
            shown = {
                key: (value if len(repr(value)) <= 80 else repr(value)[:77] + "...")
                for key, value in call.params.items()
            }
            outcome = "ok" if call.ok else f"{call.status} {call.description}"
            lines.append(f"  {call.method}({shown}) -> {outcome}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ test controls

    def person(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "da",
        username: str | None = None,
        *,
        started: bool = False,
    ) -> Person:
        """A private-chat counterpart (chat_id == user_id) the test can talk through.

        The chat only becomes reachable for the bot once the person sent something, as in
        Telegram; ``started=True`` makes it reachable right away.
        """
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        if started:
            self._known_chats.add(user_id)
        return Person(self, user)

    def inject_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update for getUpdates; assigns the next update_id when missing."""
        update = dict(update)
        update_id = update.get("update_id")
        if update_id is None:
            update_id = self._next_update_id
            update["update_id"] = update_id
        elif not isinstance(update_id, int):
            raise TypeError("update_id must be an int")
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._open_chat_from_update(update)
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            self._open_callbacks.add(str(callback.get("id")))
            self._callback_updates[str(callback.get("id"))] = update_id
        self._updates[update_id] = update
        bisect.insort(self._pending, update, key=lambda u: int(u["update_id"]))
        self._notify()
        return int(update_id)

    def update_id_of(self, callback_query_id: str) -> int:
        """The update_id that carried a callback query (e.g. from ``Person.press_nowait``)."""
        try:
            return self._callback_updates[callback_query_id]
        except KeyError:
            raise KeyError(f"no callback query {callback_query_id!r} was injected") from None

    def replay(self, update_id: int) -> None:
        """Deliver an already delivered update once more, with the same update_id.

        Telegram occasionally does this (e.g. after its own restarts); the next getUpdates
        returns it regardless of the offset the bot acknowledged.
        """
        if update_id not in self._updates:
            raise KeyError(f"update {update_id} was never injected")
        self._replays.append(self._updates[update_id])
        self._notify()

    def block(self, user_id: int, *, notify: bool = True) -> None:
        """The person blocks the bot: sends now fail with 403.

        Like Telegram, this also produces a ``my_chat_member`` update (member -> kicked)
        unless ``notify=False``; it reaches the bot only if it asked for that update type.
        """
        self._blocked.add(user_id)
        if notify:
            self._inject_member_change(user_id, old="member", new="kicked")

    def unblock(self, user_id: int, *, notify: bool = True) -> None:
        """The person unblocks the bot (``my_chat_member`` kicked -> member)."""
        self._blocked.discard(user_id)
        if notify:
            self._inject_member_change(user_id, old="kicked", new="member")

    def is_blocked(self, user_id: int) -> bool:
        """Whether ``user_id`` currently blocks the bot."""
        return user_id in self._blocked

    def delete_by_person(self, chat_id: int, message_id: int) -> None:
        """The person deletes a message of the chat, for both sides (as Telegram's apps
        offer in private chats): the bot's edits of it get "message to edit not found".

        A press the person made just before (already injected) still reaches the bot.
        """
        message = self.message(chat_id, message_id)
        if message is None or message.deleted:
            raise KeyError(f"chat {chat_id} has no message {message_id} to delete")
        message.deleted = True
        self._notify()

    def make_uneditable(self, chat_id: int, message_id: int) -> None:
        """Telegram stops letting the bot edit a message (as it does with some old ones):
        editMessageText and editMessageReplyMarkup get "message can't be edited"."""
        message = self.message(chat_id, message_id)
        if message is None:
            raise KeyError(f"chat {chat_id} has no message {message_id}")
        message.editable = False

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (optionally only to ``chat_id``) fail.

        The call is answered with ``status`` and ``description`` (Telegram's generic text
        when omitted) before it has any effect. A 429 always carries
        ``parameters.retry_after`` (default 1), which aiogram turns into TelegramRetryAfter.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(
            _Fault(
                method=method.lower(),
                status=status,
                description=description or default_description(status, retry_after),
                retry_after=retry_after,
                remaining=count,
                chat_id=chat_id,
            ),
        )

    def fail_fraction(
        self,
        method: str,
        fraction: float,
        status: int = 429,
        retry_after: int | None = 1,
        seed: int | None = None,
        *,
        description: str | None = None,
    ) -> None:
        """Fail a random share (0..1) of the calls of ``method``; ``fraction=0`` turns it off.

        ``seed`` makes the sequence of failures reproducible.
        """
        key = method.lower()
        if fraction <= 0:
            self._fraction_faults.pop(key, None)
            return
        if status == 429 and retry_after is None:
            retry_after = 1
        self._fraction_faults[key] = _FractionFault(
            fraction=fraction,
            status=status,
            description=description or default_description(status, retry_after),
            retry_after=retry_after if status == 429 else None,
            rng=random.Random(seed),
        )

    def clear_faults(self) -> None:
        """Remove every pending fail_next / fail_fraction rule, and end an outage."""
        self._faults.clear()
        self._fraction_faults.clear()
        self._outage = None

    def outage(self, kind: Outage = "disconnect") -> None:
        """Telegram is down from now until :meth:`end_outage`: every request, of every
        method, is met with ``kind``: ``"disconnect"`` closes the connection without an
        answer (recorded with status 0), ``"bad_gateway"`` answers Telegram's JSON 502,
        ``"gateway_page"`` a proxy's HTML 502 page. Nothing a request asks for happens."""
        if kind not in OUTAGES:
            raise ValueError(f"unknown outage {kind!r}; one of {', '.join(OUTAGES)}")
        self._outage = kind

    def end_outage(self) -> None:
        """Telegram answers again."""
        self._outage = None

    def revoke_token(self) -> str:
        """The bot's token is revoked (@BotFather's /revoke): from now on every request
        made with it is answered 401 Unauthorized. Returns the new token."""
        self.token = f"{self.bot_user['id']}:{secrets.token_urlsafe(24)}"
        return self.token

    def limits(
        self,
        global_per_second: float | None = None,
        per_chat_per_second: float | None = None,
    ) -> None:
        """Enable Telegram-like flood control for sending and editing methods (off by default).

        Calls beyond the rate within a sliding window are answered with 429 and a
        ``retry_after`` that says when the window frees up. ``None`` disables a limit.
        """
        self._global_window = _Window.per_second(global_per_second) if global_per_second else None
        self._chat_rate = per_chat_per_second or None
        self._chat_windows.clear()

    # ------------------------------------------------------------------ inspection

    def calls_of(self, method: str) -> list[ApiCall]:
        """All recorded calls of ``method`` (case-insensitive)."""
        key = method.lower()
        return [call for call in self.calls if call.method.lower() == key]

    def chat(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        """Messages of a chat in order, both the person's and the bot's."""
        return [
            message
            for message in self._messages.get(chat_id, [])
            if include_deleted or not message.deleted
        ]

    def message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """One message of a chat (also when deleted), or None."""
        for message in self._messages.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def documents(self, chat_id: int) -> list[ChatMessage]:
        """The bot's document messages in a chat (``.document`` holds filename and bytes)."""
        return [m for m in self.chat(chat_id) if m.from_bot and m.document is not None]

    def commands(
        self,
        language_code: str | None = None,
        scope: str = "default",
        *,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Commands set with setMyCommands for exactly this scope and language (or [])."""
        key = (scope, chat_id, user_id, language_code or "")
        return [dict(command) for command in self._commands.get(key, [])]

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """The menu button set with setChatMenuButton for a chat (None: the default one)."""
        return self._menu_buttons.get(chat_id)

    @property
    def allowed_updates(self) -> list[str]:
        """The allowed_updates the bot last asked for (empty: Telegram's default set)."""
        return list(self._allowed_updates)

    @property
    def is_polling(self) -> bool:
        """True while a getUpdates long poll is waiting for updates."""
        return self._waiting_polls > 0

    async def wait_until_polling(self, *, timeout: float = 5.0) -> None:
        """Wait until the bot is sitting in a getUpdates long poll (i.e. ready for updates)."""
        await self.wait_for(
            lambda: self._waiting_polls > 0,
            timeout=timeout,
            message="the bot is not polling",
        )

    @property
    def pending_updates(self) -> int:
        """Updates injected but not yet acknowledged by the bot."""
        return len(self._pending)

    # ------------------------------------------------------------------ internals for Person

    def _bot_events_of(self, chat_id: int) -> list[int]:
        return self._bot_events.setdefault(chat_id, [])

    def _add_user_message(self, chat_id: int, **fields: Any) -> ChatMessage:
        self._known_chats.add(chat_id)
        message = ChatMessage(
            message_id=self._allocate_message_id(chat_id),
            chat_id=chat_id,
            from_bot=False,
            date=int(time.time()),
            **fields,
        )
        self._messages.setdefault(chat_id, []).append(message)
        return message

    def _new_callback_id(self) -> str:
        # Telegram's ids are long decimal strings; uniqueness is all that matters here.
        return str(4_000_000_000_000_000 + next(self._callback_counter))

    def _chat_instance(self, chat_id: int) -> str:
        return str(abs(chat_id * 1_000_003) % 10**18 + 10**17)

    def _message_json(self, message: ChatMessage) -> dict[str, Any]:
        """The Telegram ``Message`` object for a stored message."""
        sender = self.bot_user if message.from_bot else self._user_json(message.chat_id)
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": dict(sender),
            "chat": self._chat_json(message.chat_id),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        if message.document is not None:
            doc = message.document
            data["document"] = {
                "file_id": doc.file_id,
                "file_unique_id": doc.file_unique_id,
                "file_size": doc.size,
            }
            if doc.filename:
                data["document"]["file_name"] = doc.filename
            if doc.mime_type:
                data["document"]["mime_type"] = doc.mime_type
        if message.photo is not None:
            width, height = _png_size(message.photo.data)
            data["photo"] = [
                {
                    "file_id": message.photo.file_id,
                    "file_unique_id": message.photo.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": message.photo.size,
                },
            ]
        data.update(message.extra)
        inline = _inline_part(message.reply_markup)
        if inline is not None:
            data["reply_markup"] = inline
        return data

    def _user_json(self, user_id: int) -> dict[str, Any]:
        return self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        user = self._user_json(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _open_chat_from_update(self, update: dict[str, Any]) -> None:
        # A person writing to (or pressing a button of) the bot makes the chat reachable.
        for key in ("message", "edited_message", "callback_query"):
            body = update.get(key)
            if not isinstance(body, dict):
                continue
            chat = body.get("chat") or (body.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                self._known_chats.add(chat["id"])

    def _inject_member_change(self, user_id: int, *, old: str, new: str) -> None:
        now = int(time.time())
        new_member: dict[str, Any] = {"user": dict(self.bot_user), "status": new}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"user": dict(self.bot_user), "status": old}
        if old == "kicked":
            old_member["until_date"] = 0
        self.inject_update(
            {
                "my_chat_member": {
                    "chat": self._chat_json(user_id),
                    "from": self._user_json(user_id),
                    "date": now,
                    "old_chat_member": old_member,
                    "new_chat_member": new_member,
                },
            },
        )

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> Params:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: invalid JSON body")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        raw[key] = UploadedFile(
                            filename=value.filename,
                            data=value.file.read(),
                            content_type=value.content_type,
                        )
                    else:
                        raw[key] = value
        params = {key: _decode_value(key, value) for key, value in raw.items()}
        # aiogram uploads files as "document=attach://<key>" plus a part named <key>.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                part = value.removeprefix("attach://")
                if isinstance(params.get(part), UploadedFile):
                    params[key] = params.pop(part)
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        entry = self._handlers.get(method.lower())
        name = entry[0] if entry else method
        params: Params = {}
        try:
            try:
                params = await self._read_params(request)
            except (ValueError, UnicodeDecodeError) as error:  # malformed JSON or form
                raise ApiError(400, "Bad Request: can't parse request body") from error
            if self._outage is not None:
                return self._outage_answer(request, name, params, self._outage)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            self._apply_faults(name, params)
            self._apply_rate_limits(name, params)
            result = await entry[1](params)
        except ApiError as error:
            self._record(name, params, error.status, None, error.description)
            return web.json_response(error.payload(), status=error.status)
        self._record(name, params, 200, result, None)
        return web.json_response({"ok": True, "result": result})

    def _outage_answer(
        self, request: web.Request, method: str, params: Params, kind: Outage
    ) -> web.Response:
        if kind == "disconnect":
            self._record(method, params, DISCONNECTED, None, "connection closed (outage)")
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=502)  # never reaches the client: the connection is gone
        self._record(method, params, 502, None, "Bad Gateway (outage)")
        if kind == "bad_gateway":
            return web.json_response(ApiError(502, "Bad Gateway").payload(), status=502)
        return web.Response(status=502, text=_GATEWAY_PAGE, content_type="text/html")

    def _record(
        self,
        method: str,
        params: Params,
        status: int,
        result: Any,
        description: str | None,
    ) -> None:
        self.calls.append(
            ApiCall(
                method=method,
                params=params,
                timestamp=time.monotonic(),
                status=status,
                result=result,
                description=description,
            ),
        )
        self._notify()

    def _apply_faults(self, method: str, params: Params) -> None:
        key = method.lower()
        chat_id = _as_int(params.get("chat_id"))
        for fault in self._faults:
            if fault.method == key and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault.status, fault.description, retry_after=fault.retry_after)
        fraction = self._fraction_faults.get(key)
        if fraction is not None and fraction.rng.random() < fraction.fraction:
            raise ApiError(fraction.status, fraction.description, retry_after=fraction.retry_after)

    def _apply_rate_limits(self, method: str, params: Params) -> None:
        # Telegram's flood control is about messages: sends and edits, not chat actions.
        if not method.startswith(("send", "edit", "copy", "forward")) or method == "sendChatAction":
            return
        now = time.monotonic()
        windows: list[_Window] = []
        if self._global_window is not None:
            windows.append(self._global_window)
        chat_id = _as_int(params.get("chat_id"))
        if self._chat_rate is not None and chat_id is not None:
            window = self._chat_windows.get(chat_id)
            if window is None:
                window = self._chat_windows[chat_id] = _Window.per_second(self._chat_rate)
            windows.append(window)
        waits = [wait for window in windows if (wait := window.retry_after(now)) is not None]
        if waits:
            retry_after = max(waits)
            raise ApiError(429, default_description(429, retry_after), retry_after=retry_after)
        for window in windows:
            window.stamps.append(now)

    async def _control_update(self, request: web.Request) -> web.Response:
        update = await request.json()
        return web.json_response({"ok": True, "update_id": self.inject_update(update)})

    async def _control_person(self, request: web.Request) -> tuple[Person, dict[str, Any]]:
        body = await request.json()
        user_id = int(body["user_id"])
        known = self._users.get(user_id, {})
        person = self.person(
            user_id,
            first_name=str(body.get("first_name", known.get("first_name", "Test"))),
            language_code=body.get("language_code", known.get("language_code", "da")),
            username=body.get("username", known.get("username")),
        )
        return person, body

    async def _control_send(self, request: web.Request) -> web.Response:
        person, body = await self._control_person(request)
        update_id = person.send_nowait(str(body["text"]))
        return web.json_response({"ok": True, "update_id": update_id})

    async def _control_press(self, request: web.Request) -> web.Response:
        person, body = await self._control_person(request)
        try:
            callback_id = person.press_nowait(
                str(body["button"]),
                message_id=body.get("message_id"),
            )
        except AssertionError as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        return web.json_response({"ok": True, "callback_query_id": callback_id})

    async def _control_delete(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            self.delete_by_person(int(body["chat_id"]), int(body["message_id"]))
        except KeyError as error:
            return web.json_response({"ok": False, "description": str(error)}, status=400)
        return web.json_response({"ok": True})

    async def _control_chat(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        messages = [
            {
                **self._message_json(message),
                "from_bot": message.from_bot,
                "buttons": message.button_rows,
            }
            for message in self.chat(chat_id)
        ]
        return web.json_response({"ok": True, "messages": messages})

    async def _control_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        calls = self.calls_of(method) if method else self.calls
        return web.json_response(
            {
                "ok": True,
                "calls": [
                    {
                        "method": call.method,
                        "status": call.status,
                        "description": call.description,
                        "params": {
                            key: value
                            for key, value in call.params.items()
                            if not isinstance(value, UploadedFile)
                        },
                    }
                    for call in calls
                ],
            },
        )

    # ------------------------------------------------------------------ shared checks

    def _allocate_message_id(self, chat_id: int) -> int:
        # One counter per chat for both sides, as in Telegram private chats.
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    @staticmethod
    def _chat_id(params: Params) -> int:
        if params.get("chat_id") in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _as_int(params["chat_id"])
        if chat_id is None:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        return chat_id

    def _reachable_chat(self, params: Params) -> int:
        chat_id = self._chat_id(params)
        if chat_id not in self._known_chats:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        if chat_id in self._blocked:
            raise ApiError(403, ERR_BLOCKED)
        return chat_id

    @staticmethod
    def _format(
        text: str,
        parse_mode: Any,
        entities: Any,
    ) -> tuple[str, list[dict[str, Any]]]:
        try:
            return parse_formatted(
                text,
                parse_mode if isinstance(parse_mode, str) else None,
                entities if isinstance(entities, list) else None,
            )
        except EntityParseError as error:
            raise ApiError(400, f"Bad Request: can't parse entities: {error}") from error

    def _text(self, params: Params) -> tuple[str, list[dict[str, Any]]]:
        text = params.get("text")
        if not isinstance(text, str):
            raise ApiError(400, ERR_TEXT_EMPTY)
        plain, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not plain:
            raise ApiError(400, ERR_TEXT_EMPTY)
        if len(plain) > MAX_TEXT_LENGTH:
            raise ApiError(400, ERR_TOO_LONG)
        return plain, entities

    def _caption(self, params: Params) -> tuple[str | None, list[dict[str, Any]]]:
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return None, []
        plain, entities = self._format(
            caption,
            params.get("parse_mode"),
            params.get("caption_entities"),
        )
        if len(plain) > MAX_CAPTION_LENGTH:
            raise ApiError(400, ERR_CAPTION_TOO_LONG)
        return plain or None, entities

    @staticmethod
    def _markup(value: Any) -> dict[str, Any] | None:
        """Validate reply_markup the way Telegram does for the parts tests care about."""
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            raise ApiError(400, ERR_MARKUP)
        if "inline_keyboard" not in value:
            return value
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, ERR_MARKUP)
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise ApiError(400, ERR_MARKUP_TOO_LONG)
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise ApiError(400, ERR_MARKUP)
                if "callback_data" in button:
                    data = button["callback_data"]
                    # Telegram counts bytes, so "ø" counts twice.
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise ApiError(400, ERR_BUTTON_DATA)
                elif len(button) == 1:
                    raise ApiError(400, ERR_TEXT_BUTTONS)
        return value

    def _store_file(self, value: Any, kind: str) -> StoredFile:
        if isinstance(value, UploadedFile):
            if not value.data:
                raise ApiError(400, ERR_EMPTY_FILE)
            if len(value.data) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            return self._register_file(value.filename, value.data, value.content_type, kind)
        if isinstance(value, str) and value in self._files:
            return self._files[value]  # re-sending by file_id, as bots do with cached ids
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            # There is no internet here, so the content stays unknown.
            return self._register_file(value.rsplit("/", 1)[-1] or None, b"", None, kind)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        raise ApiError(400, ERR_BAD_FILE)

    def _register_file(
        self,
        filename: str | None,
        data: bytes,
        content_type: str | None,
        kind: str,
    ) -> StoredFile:
        number = next(self._file_counter)
        guessed = mimetypes.guess_type(filename)[0] if filename else None
        if content_type == "application/octet-stream":
            content_type = None  # aiohttp's default, not a real statement about the file
        stored = StoredFile(
            filename=filename,
            data=data,
            mime_type=guessed or content_type,
            file_id=f"{'BQAC' if kind == 'document' else 'AgAC'}standin{number:06d}",
            file_unique_id=f"AQADstandin{number:06d}",
        )
        self._files[stored.file_id] = stored
        return stored

    def _bot_message(self, chat_id: int, **fields: Any) -> ChatMessage:
        message = ChatMessage(
            message_id=self._allocate_message_id(chat_id),
            chat_id=chat_id,
            from_bot=True,
            date=int(time.time()),
            **fields,
        )
        self._messages.setdefault(chat_id, []).append(message)
        self._bot_events_of(chat_id).append(message.message_id)
        return message

    def _editable(self, params: Params) -> ChatMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat_id = self._chat_id(params)
        message_id = _as_int(params.get("message_id"))
        message = self.message(chat_id, message_id) if message_id is not None else None
        if message is None or message.deleted:
            raise ApiError(400, ERR_EDIT_NOT_FOUND)
        if not message.from_bot or not message.editable:
            raise ApiError(400, ERR_CANT_EDIT)
        return message

    def _apply_edit(
        self,
        message: ChatMessage,
        *,
        text: str | None,
        entities: list[dict[str, Any]],
        reply_markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message.history.append(
            MessageRevision(
                text=message.text,
                entities=message.entities,
                caption=message.caption,
                reply_markup=message.reply_markup,
                date=message.edit_date or message.date,
            ),
        )
        message.text = text
        message.entities = entities
        message.reply_markup = reply_markup
        message.edited_count += 1
        message.edit_date = int(time.time())
        self._bot_events_of(message.chat_id).append(message.message_id)
        return self._message_json(message)

    # ------------------------------------------------------------------ Bot API methods

    def _method_table(self) -> dict[str, _Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._true,
            "close": self._true,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "setMyDescription": self._bot_text_setter("description"),
            "getMyDescription": self._bot_text_getter("description"),
            "setMyShortDescription": self._bot_text_setter("short_description"),
            "getMyShortDescription": self._bot_text_getter("short_description"),
            "setMyName": self._bot_text_setter("name"),
            "getMyName": self._bot_text_getter("name"),
        }

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = _update_type(update)
        if not self._allowed_updates:
            return kind not in _OPT_IN_UPDATE_TYPES
        return kind in self._allowed_updates

    def _has_updates(self) -> bool:
        # Updates of types the bot did not ask for are dropped, as Telegram never sends them.
        self._pending = [u for u in self._pending if self._allowed(u)]
        self._replays = [u for u in self._replays if self._allowed(u)]
        return bool(self._pending or self._replays)

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, ERR_WEBHOOK_ACTIVE)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        offset = _as_int(params.get("offset"))
        if offset is not None and offset > 0:
            # Acknowledge: everything below the offset is forgotten for good.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset is not None and offset < 0:
            self._pending = self._pending[offset:]
        limit = min(max(_as_int(params.get("limit")) or 100, 1), 100)
        timeout = min(max(_as_int(params.get("timeout")) or 0, 0), MAX_POLL_TIMEOUT)

        # A newer getUpdates ends an older one with 409, as in Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._waiting_polls += 1
        self._notify()
        try:
            await self._wait(
                lambda: self._closing or generation != self._poll_generation or self._has_updates(),
                timeout,
            )
        finally:
            self._waiting_polls -= 1
        if generation != self._poll_generation:
            raise ApiError(409, ERR_POLL_CONFLICT)
        if self._closing or not self._has_updates():
            return []
        # Replays first: aiogram moves its offset to the last update_id + 1 of a batch, so
        # the replayed (older) id must not come last.
        batch = self._replays[:limit]
        self._replays = self._replays[limit:]
        batch += self._pending[: limit - len(batch)]
        self.deliveries.extend(int(u["update_id"]) for u in batch)
        return batch

    async def _set_webhook(self, params: Params) -> bool:
        url = params.get("url")
        self.webhook_url = url if isinstance(url, str) else ""
        secret = params.get("secret_token")
        self.webhook_secret_token = secret if isinstance(secret, str) else None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        self.webhook_url = ""
        self.webhook_secret_token = None
        if params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat_id = self._reachable_chat(params)
        text, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"))
        message = self._bot_message(
            chat_id,
            text=text,
            entities=entities,
            reply_markup=markup,
            parse_mode=params.get("parse_mode"),
        )
        return self._message_json(message)

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        message = self._editable(params)
        if message.text is None:
            raise ApiError(400, ERR_NO_TEXT)
        text, entities = self._text(params)
        new_markup = self._markup(params.get("reply_markup"))
        # Without reply_markup Telegram drops the inline keyboard; a reply keyboard is a
        # property of the chat and stays.
        stored = new_markup
        if stored is None and _inline_part(message.reply_markup) is None:
            stored = message.reply_markup
        if (text, entities, _inline_part(new_markup)) == (
            message.text,
            message.entities,
            _inline_part(message.reply_markup),
        ):
            raise ApiError(400, ERR_NOT_MODIFIED)
        message.parse_mode = params.get("parse_mode")
        return self._apply_edit(message, text=text, entities=entities, reply_markup=stored)

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        message = self._editable(params)
        new_markup = self._markup(params.get("reply_markup"))
        if _inline_part(new_markup) == _inline_part(message.reply_markup):
            raise ApiError(400, ERR_NOT_MODIFIED)
        return self._apply_edit(
            message,
            text=message.text,
            entities=message.entities,
            reply_markup=new_markup,
        )

    async def _delete_message(self, params: Params) -> bool:
        chat_id = self._chat_id(params)
        message_id = _as_int(params.get("message_id"))
        message = self.message(chat_id, message_id) if message_id is not None else None
        if message is None or message.deleted:
            raise ApiError(400, ERR_DELETE_NOT_FOUND)
        message.deleted = True
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        callback_id = str(params.get("callback_query_id", ""))
        if callback_id not in self._open_callbacks:
            # Unknown, or already answered: Telegram accepts one answer per query.
            raise ApiError(400, ERR_QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError(400, ERR_CALLBACK_ANSWER_TOO_LONG)
        self._open_callbacks.discard(callback_id)
        return True

    @staticmethod
    def _commands_key(params: Params) -> tuple[str, int | None, int | None, str]:
        scope = params.get("scope")
        if not isinstance(scope, dict):
            scope = {"type": "default"}
        language = params.get("language_code")
        return (
            str(scope.get("type", "default")),
            _as_int(scope.get("chat_id")),
            _as_int(scope.get("user_id")),
            language if isinstance(language, str) else "",
        )

    async def _set_my_commands(self, params: Params) -> bool:
        # BotCommand: command 1-32 of a-z, 0-9 and _, description 1-256 characters, at
        # most 100 commands; a bad command gets "BOT_COMMAND_INVALID"
        # (tdlib/telegram-bot-api#98, yagop/node-telegram-bot-api#1008).
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, ERR_COMMAND)
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", "")),
            ):
                raise ApiError(400, ERR_COMMAND)
            description = command.get("description")
            if not isinstance(description, str) or not description:
                # williamhorning/lightning#87
                raise ApiError(400, "Bad Request: command description must be non-empty")
            if len(description) > 256:
                # Telegram's text for this one was not found; the name follows its style.
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self._commands[key] = [dict(command) for command in commands]
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, Any]]:
        return [dict(command) for command in self._commands.get(self._commands_key(params), [])]

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    async def _set_chat_menu_button(self, params: Params) -> bool:
        chat_id = _as_int(params.get("chat_id")) if params.get("chat_id") else None
        button = params.get("menu_button")
        self._menu_buttons[chat_id] = button if isinstance(button, dict) else {"type": "default"}
        return True

    async def _get_chat_menu_button(self, params: Params) -> dict[str, Any]:
        chat_id = _as_int(params.get("chat_id")) if params.get("chat_id") else None
        return self._menu_buttons.get(chat_id) or {"type": "default"}

    async def _send_chat_action(self, params: Params) -> bool:
        self._reachable_chat(params)
        if not isinstance(params.get("action"), str):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _send_media(self, params: Params, kind: str) -> dict[str, Any]:
        chat_id = self._reachable_chat(params)
        stored = self._store_file(params.get(kind), kind)
        caption, caption_entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"))
        message = self._bot_message(
            chat_id,
            kind=kind,
            caption=caption,
            caption_entities=caption_entities,
            reply_markup=markup,
            parse_mode=params.get("parse_mode"),
            **{kind: stored},
        )
        return self._message_json(message)

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send_media(params, "document")

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send_media(params, "photo")

    def _bot_text_setter(self, kind: str) -> _Handler:
        async def handler(params: Params) -> bool:
            language = params.get("language_code")
            key = (kind, language if isinstance(language, str) else "")
            value = params.get(kind)
            if isinstance(value, str) and value:
                self._bot_texts[key] = value
            else:
                self._bot_texts.pop(key, None)
            return True

        return handler

    def _bot_text_getter(self, kind: str) -> _Handler:
        async def handler(params: Params) -> dict[str, str]:
            language = params.get("language_code")
            key = (kind, language if isinstance(language, str) else "")
            fallback = self.bot_user["first_name"] if kind == "name" else ""
            return {kind: self._bot_texts.get(key, fallback)}

        return handler

    def bot_text(self, kind: str, language_code: str | None = None) -> str | None:
        """What setMyDescription / setMyShortDescription / setMyName stored (kind: the field)."""
        return self._bot_texts.get((kind, language_code or ""))
