"""The stand-in's HTTP server (Bot API routes, control endpoints) and BotAPIStandIn, its facade.

Telegram is unreachable from the test and demo machines, so the bot talks to this server
instead: a real ``aiogram.Bot`` pointed at :attr:`BotAPIStandIn.api_server` sends real HTTP
requests, and the stand-in answers them the way Telegram would, including Telegram's
limits and error shapes, so that the bot's error handling is exercised for real.

Tests drive the other side of the conversation through :class:`standin.person.Person`
(``standin.person(user_id)``), inject raw updates with :meth:`BotAPIStandIn.inject_update`,
and inspect what the bot did through :attr:`BotAPIStandIn.calls` and
:meth:`BotAPIStandIn.chat`. Everything runs in the caller's event loop; waiting for the
bot is event-driven (:meth:`BotAPIStandIn.wait_for`), never a sleep.

The facade composes the parts: the world's state (world.py), the Bot API methods
(methods.py), fault injection (faults.py), Telegram's error texts (errors.py), request
decoding (params.py) and the control endpoints (control.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from .control import control_routes
from .errors import (
    ERR_BAD_GATEWAY,
    ERR_BODY,
    ERR_JSON_BODY,
    ERR_NOT_FOUND,
    ERR_UNAUTHORIZED,
    ApiError,
)
from .faults import DISCONNECTED, GATEWAY_PAGE, Faults, Outage
from .methods import MAX_UPLOAD_BYTES, BotAPIMethods
from .models import ApiCall, ChatMessage, UploadedFile
from .params import Params, as_int, decode_value
from .person import Person
from .world import World

__all__ = ["ApiError", "BotAPIStandIn"]


async def _read_params(request: web.Request) -> Params:
    """The decoded parameters of a request: query, JSON body or form, uploaded files.

    :raises ValueError, UnicodeDecodeError: on a body that is not JSON or a form.
    """
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ApiError(400, ERR_JSON_BODY)
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
    params = {key: decode_value(key, value) for key, value in raw.items()}
    # aiogram uploads files as "document=attach://<key>" plus a part named <key>.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if isinstance(params.get(part), UploadedFile):
                params[key] = params.pop(part)
    return params


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

        bot_id = as_int(token.split(":", 1)[0])
        #: Everything the stand-in knows: chats, messages, files, updates, calls.
        self.world = World(
            {
                "id": bot_id if bot_id is not None else 123456,
                "is_bot": True,
                "first_name": "Pejling",
                "username": bot_username,
            },
        )
        self._methods = BotAPIMethods(self.world)
        self._faults = Faults()

    # ------------------------------------------------------------------ the world's records

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's Telegram ``User`` object (its id is the token's first part)."""
        return self.world.bot_user

    @property
    def calls(self) -> list[ApiCall]:
        """Every request received, in order (including failed ones and getUpdates)."""
        return self.world.calls

    @property
    def deliveries(self) -> list[int]:
        """update_ids in the order getUpdates handed them out (replays appear twice)."""
        return self.world.deliveries

    @property
    def webhook_url(self) -> str:
        """The URL setWebhook set ("" when there is none)."""
        return self.world.webhook_url

    @property
    def webhook_secret_token(self) -> str | None:
        """The secret_token setWebhook set, if any."""
        return self.world.webhook_secret_token

    @property
    def webhook_max_connections(self) -> int:
        """The max_connections setWebhook set (Telegram's default, 40, when none)."""
        return self.world.webhook_max_connections

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening; after this :attr:`url` is valid."""
        if self._runner is not None:
            return
        self._methods.closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_routes(control_routes(self))
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
        self._methods.closing = True
        self.world.notify()
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

    # ------------------------------------------------------------------ the Bot API over HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        entry = self._methods.find(method)
        name = entry[0] if entry else method
        params: Params = {}
        try:
            try:
                params = await _read_params(request)
            except (ValueError, UnicodeDecodeError) as error:  # malformed JSON or form
                raise ApiError(400, ERR_BODY) from error
            outage = self._faults.outage_met(name, params)
            if outage is not None:
                return await self._outage_answer(request, name, params, outage)
            if request.match_info["token"] != self.token:
                raise ApiError(401, ERR_UNAUTHORIZED)
            if entry is None:
                raise ApiError(404, ERR_NOT_FOUND)
            self._faults.check(name, params)
            result = await entry[1](params)
        except ApiError as error:
            self.world.record(name, params, error.status, None, error.description)
            return web.json_response(error.payload(), status=error.status)
        self.world.record(name, params, 200, result, None)
        return web.json_response({"ok": True, "result": result})

    async def _outage_answer(
        self, request: web.Request, method: str, params: Params, kind: Outage
    ) -> web.Response:
        if kind == "hang":
            # Recorded on arrival, so a test sees the request wait; nothing of it happens.
            self.world.record(method, params, DISCONNECTED, None, "held without an answer (outage)")
            # Until the outage ends or the stand-in stops; when the client gives up first,
            # aiohttp cancels this handler (handler_cancellation).
            await self.world.wait(
                lambda: self._faults.outage != "hang" or self._methods.closing, timeout=None
            )
            return self._close_unanswered(request)
        if kind == "disconnect":
            self.world.record(method, params, DISCONNECTED, None, "connection closed (outage)")
            return self._close_unanswered(request)
        self.world.record(method, params, 502, None, "Bad Gateway (outage)")
        if kind == "bad_gateway":
            return web.json_response(ApiError(502, ERR_BAD_GATEWAY).payload(), status=502)
        return web.Response(status=502, text=GATEWAY_PAGE, content_type="text/html")

    @staticmethod
    def _close_unanswered(request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=502)  # never reaches the client: the connection is gone

    # ------------------------------------------------------------------ waiting

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
        if not await self.world.wait(predicate, timeout):
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
        self.world.add_user(user, started=started)
        return Person(self, user)

    def inject_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update for getUpdates; assigns the next update_id when missing."""
        return self.world.inject_update(update)

    def update_id_of(self, callback_query_id: str) -> int:
        """The update_id that carried a callback query (e.g. from ``Person.press_nowait``)."""
        try:
            return self.world.callback_updates[callback_query_id]
        except KeyError:
            raise KeyError(f"no callback query {callback_query_id!r} was injected") from None

    def replay(self, update_id: int) -> None:
        """Deliver an already delivered update once more, with the same update_id.

        Telegram occasionally does this (e.g. after its own restarts); the next getUpdates
        returns it regardless of the offset the bot acknowledged.
        """
        self.world.replay(update_id)

    def block(self, user_id: int, *, notify: bool = True) -> None:
        """The person blocks the bot: sends now fail with 403.

        Like Telegram, this also produces a ``my_chat_member`` update (member -> kicked)
        unless ``notify=False``; it reaches the bot only if it asked for that update type.
        """
        self.world.block(user_id, notify=notify)

    def unblock(self, user_id: int, *, notify: bool = True) -> None:
        """The person unblocks the bot (``my_chat_member`` kicked -> member)."""
        self.world.unblock(user_id, notify=notify)

    def is_blocked(self, user_id: int) -> bool:
        """Whether ``user_id`` currently blocks the bot."""
        return user_id in self.world.blocked

    def delete_by_person(self, chat_id: int, message_id: int) -> None:
        """The person deletes a message of the chat, for both sides (as Telegram's apps
        offer in private chats): the bot's edits of it get "message to edit not found".

        A press the person made just before (already injected) still reaches the bot.
        """
        message = self.message(chat_id, message_id)
        if message is None or message.deleted:
            raise KeyError(f"chat {chat_id} has no message {message_id} to delete")
        message.deleted = True
        self.world.notify()

    def make_uneditable(self, chat_id: int, message_id: int) -> None:
        """Telegram stops letting the bot edit a message (as it does with some old ones):
        editMessageText and editMessageReplyMarkup get "message can't be edited"."""
        message = self.message(chat_id, message_id)
        if message is None:
            raise KeyError(f"chat {chat_id} has no message {message_id}")
        message.editable = False

    # ------------------------------------------------------------------ fault injection

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
        self._faults.fail_next(
            method,
            status=status,
            description=description,
            retry_after=retry_after,
            count=count,
            chat_id=chat_id,
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
        self._faults.fail_fraction(
            method, fraction, status, retry_after, seed, description=description
        )

    def clear_faults(self) -> None:
        """Remove every pending fail_next / fail_fraction rule, and end an outage."""
        self._faults.clear()
        self.world.notify()  # requests held by a "hang" are let go

    def outage(
        self,
        kind: Outage = "disconnect",
        *,
        at: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Telegram is down from now until :meth:`end_outage`: every request, of every
        method, is met with ``kind``: ``"disconnect"`` closes the connection without an
        answer (recorded with status 0), ``"bad_gateway"`` answers Telegram's JSON 502,
        ``"gateway_page"`` a proxy's HTML 502 page, and ``"hang"`` accepts the request and
        holds it without an answer (recorded with status 0 on arrival) until the outage
        ends, when its connection is closed, or the client gives up waiting. Nothing a
        request asks for happens.

        With ``at``, Telegram goes down at the bot's next call of that method (to
        ``chat_id``, when given): the calls before it are answered as usual, that call is
        the first to meet the outage. For the moment Telegram fails under a handler.
        """
        self._faults.start_outage(kind, at=at, chat_id=chat_id)
        self.world.notify()  # requests held by a "hang" check whether it goes on

    def end_outage(self) -> None:
        """Telegram answers again; requests held by a "hang" are closed unanswered."""
        self._faults.end_outage()
        self.world.notify()

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
        self._faults.limits(global_per_second, per_chat_per_second)

    # ------------------------------------------------------------------ inspection

    def calls_of(self, method: str) -> list[ApiCall]:
        """All recorded calls of ``method`` (case-insensitive)."""
        key = method.lower()
        return [call for call in self.calls if call.method.lower() == key]

    def chat(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        """Messages of a chat in order, both the person's and the bot's."""
        return self.world.chat(chat_id, include_deleted=include_deleted)

    def message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """One message of a chat (also when deleted), or None."""
        return self.world.message(chat_id, message_id)

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
        return [dict(command) for command in self.world.commands.get(key, [])]

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """The menu button set with setChatMenuButton for a chat (None: the default one)."""
        return self.world.menu_buttons.get(chat_id)

    def bot_text(self, kind: str, language_code: str | None = None) -> str | None:
        """What setMyDescription / setMyShortDescription / setMyName stored (kind: the field)."""
        return self.world.bot_texts.get((kind, language_code or ""))

    @property
    def allowed_updates(self) -> list[str]:
        """The allowed_updates the bot last asked for (empty: Telegram's default set)."""
        return list(self.world.allowed_updates)

    @property
    def is_polling(self) -> bool:
        """True while a getUpdates long poll is waiting for updates."""
        return self._methods.waiting_polls > 0

    async def wait_until_polling(self, *, timeout: float = 5.0) -> None:
        """Wait until the bot is sitting in a getUpdates long poll (i.e. ready for updates)."""
        await self.wait_for(
            lambda: self._methods.waiting_polls > 0,
            timeout=timeout,
            message="the bot is not polling",
        )

    @property
    def pending_updates(self) -> int:
        """Updates injected but not yet acknowledged by the bot."""
        return len(self.world.pending)
