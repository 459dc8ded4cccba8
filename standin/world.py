"""The world's state: people, chats, messages and their revisions, files, updates, calls."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import mimetypes
import time
from collections.abc import Callable
from typing import Any, Final

from .models import ApiCall, ChatMessage, StoredFile

__all__ = ["World"]

# Update types Telegram leaves out when allowed_updates is empty or was never set.
_OPT_IN_UPDATE_TYPES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"},
)

#: The key of setMyCommands' storage: scope type, scope chat_id, scope user_id, language.
CommandsKey = tuple[str, int | None, int | None, str]


def inline_part(markup: dict[str, Any] | None) -> dict[str, Any] | None:
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


class World:
    """Everything the stand-in knows, as plain data with the rules Telegram keeps for it.

    No HTTP here: the Bot API methods (methods.py) and the test controls change the world,
    and whoever waits for a change (a long poll, a test) is woken by :meth:`notify`.
    """

    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user

        #: Every request received, in order (including failed ones and getUpdates).
        self.calls: list[ApiCall] = []
        #: update_ids in the order getUpdates handed them out (replays appear twice).
        self.deliveries: list[int] = []
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None
        #: How many webhook connections Telegram opens at once (its default is 40).
        self.webhook_max_connections = 40

        self.users: dict[int, dict[str, Any]] = {}
        self.known_chats: set[int] = set()
        self.blocked: set[int] = set()
        self.messages: dict[int, list[ChatMessage]] = {}
        self._last_message_id: dict[int, int] = {}
        # Per chat: message_id of every successful bot send or edit, in order. Person
        # counts entries here to know when the bot has answered.
        self._bot_events: dict[int, list[int]] = {}
        self.files: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)

        self.updates: dict[int, dict[str, Any]] = {}
        self.pending: list[dict[str, Any]] = []  # sorted by update_id, not yet acknowledged
        self.replays: list[dict[str, Any]] = []
        self._next_update_id = 1
        self.allowed_updates: list[str] = []

        self.open_callbacks: set[str] = set()
        self.callback_updates: dict[str, int] = {}
        self.commands: dict[CommandsKey, list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}

        self._waiters: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------------ waiting

    def notify(self) -> None:
        """Wake every waiter so it re-checks its predicate."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, predicate: Callable[[], object], timeout: float | None) -> bool:
        """Wait until ``predicate()`` is true; False on timeout (None: no timeout).
        Checked on every change."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
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

    def record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        result: Any,
        description: str | None,
    ) -> None:
        """Log one answered request in :attr:`calls` (and wake the waiters)."""
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
        self.notify()

    # ------------------------------------------------------------------ people and chats

    def add_user(self, user: dict[str, Any], *, started: bool) -> None:
        """Know a person (Telegram's ``User``); ``started``: the bot may write to them now."""
        self.users[user["id"]] = user
        if started:
            self.known_chats.add(user["id"])

    def block(self, user_id: int, *, notify: bool) -> None:
        """The person blocks the bot (with a ``my_chat_member`` update if ``notify``)."""
        self.blocked.add(user_id)
        if notify:
            self._inject_member_change(user_id, old="member", new="kicked")

    def unblock(self, user_id: int, *, notify: bool) -> None:
        """The person unblocks the bot (with a ``my_chat_member`` update if ``notify``)."""
        self.blocked.discard(user_id)
        if notify:
            self._inject_member_change(user_id, old="kicked", new="member")

    # ------------------------------------------------------------------ messages

    def chat(self, chat_id: int, *, include_deleted: bool = False) -> list[ChatMessage]:
        """Messages of a chat in order, both the person's and the bot's."""
        return [
            message
            for message in self.messages.get(chat_id, [])
            if include_deleted or not message.deleted
        ]

    def message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """One message of a chat (also when deleted), or None."""
        for message in self.messages.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def bot_events_of(self, chat_id: int) -> list[int]:
        """message_id of every successful bot send or edit in a chat, in order."""
        return self._bot_events.setdefault(chat_id, [])

    def _allocate_message_id(self, chat_id: int) -> int:
        # One counter per chat for both sides, as in Telegram private chats.
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def add_user_message(self, chat_id: int, **fields: Any) -> ChatMessage:
        """The person writes in their chat with the bot, which makes the chat reachable."""
        self.known_chats.add(chat_id)
        message = ChatMessage(
            message_id=self._allocate_message_id(chat_id),
            chat_id=chat_id,
            from_bot=False,
            date=int(time.time()),
            **fields,
        )
        self.messages.setdefault(chat_id, []).append(message)
        return message

    def add_bot_message(self, chat_id: int, **fields: Any) -> ChatMessage:
        """The bot's message arrives in a chat."""
        message = ChatMessage(
            message_id=self._allocate_message_id(chat_id),
            chat_id=chat_id,
            from_bot=True,
            date=int(time.time()),
            **fields,
        )
        self.messages.setdefault(chat_id, []).append(message)
        self.bot_events_of(chat_id).append(message.message_id)
        return message

    def edit_message(
        self,
        message: ChatMessage,
        *,
        text: str | None,
        entities: list[dict[str, Any]],
        reply_markup: dict[str, Any] | None,
    ) -> None:
        """The bot edits its message: the old content is kept as a revision."""
        message.keep_revision()
        message.text = text
        message.entities = entities
        message.reply_markup = reply_markup
        message.edited_count += 1
        message.edit_date = int(time.time())
        self.bot_events_of(message.chat_id).append(message.message_id)

    def register_file(
        self,
        filename: str | None,
        data: bytes,
        content_type: str | None,
        kind: str,
    ) -> StoredFile:
        """Keep a file the bot sent, under a new file_id of Telegram's shape."""
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
        self.files[stored.file_id] = stored
        return stored

    # ------------------------------------------------------------------ updates

    def new_callback_id(self) -> str:
        """A fresh callback query id."""
        # Telegram's ids are long decimal strings; uniqueness is all that matters here.
        return str(4_000_000_000_000_000 + next(self._callback_counter))

    def chat_instance(self, chat_id: int) -> str:
        """The callback query's ``chat_instance`` of a chat (stable per chat)."""
        return str(abs(chat_id * 1_000_003) % 10**18 + 10**17)

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
            self.open_callbacks.add(str(callback.get("id")))
            self.callback_updates[str(callback.get("id"))] = update_id
        self.updates[update_id] = update
        bisect.insort(self.pending, update, key=lambda u: int(u["update_id"]))
        self.notify()
        return int(update_id)

    def replay(self, update_id: int) -> None:
        """Deliver an already delivered update once more, with the same update_id."""
        if update_id not in self.updates:
            raise KeyError(f"update {update_id} was never injected")
        self.replays.append(self.updates[update_id])
        self.notify()

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = _update_type(update)
        if not self.allowed_updates:
            return kind not in _OPT_IN_UPDATE_TYPES
        return kind in self.allowed_updates

    def has_updates(self) -> bool:
        """Whether getUpdates has something to hand out."""
        # Updates of types the bot did not ask for are dropped, as Telegram never sends them.
        self.pending = [u for u in self.pending if self._allowed(u)]
        self.replays = [u for u in self.replays if self._allowed(u)]
        return bool(self.pending or self.replays)

    def _open_chat_from_update(self, update: dict[str, Any]) -> None:
        # A person writing to (or pressing a button of) the bot makes the chat reachable.
        for key in ("message", "edited_message", "callback_query"):
            body = update.get(key)
            if not isinstance(body, dict):
                continue
            chat = body.get("chat") or (body.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                self.known_chats.add(chat["id"])

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
                    "chat": self.chat_json(user_id),
                    "from": self.user_json(user_id),
                    "date": now,
                    "old_chat_member": old_member,
                    "new_chat_member": new_member,
                },
            },
        )

    # ------------------------------------------------------------------ Telegram's JSON

    def message_json(self, message: ChatMessage) -> dict[str, Any]:
        """The Telegram ``Message`` object for a stored message."""
        sender = self.bot_user if message.from_bot else self.user_json(message.chat_id)
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": dict(sender),
            "chat": self.chat_json(message.chat_id),
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
        inline = inline_part(message.reply_markup)
        if inline is not None:
            data["reply_markup"] = inline
        return data

    def user_json(self, user_id: int) -> dict[str, Any]:
        """The Telegram ``User`` object of a person (a placeholder for strangers)."""
        return self.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        """The Telegram ``Chat`` object of a private chat."""
        user = self.user_json(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat
