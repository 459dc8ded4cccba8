"""The test-facing side of a private chat: a person talking to the bot under test.

A :class:`Person` injects the updates a real Telegram client would cause (messages,
button presses, edits) and waits, without sleeping, for the bot's visible reaction.
Create one with ``standin.person(user_id)``.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from .formatting import utf16_len
from .models import CallbackAnswer, ChatMessage

if TYPE_CHECKING:
    from .server import BotAPIStandIn

__all__ = ["Person"]

_media_ids = itertools.count(1)


class Person:
    """One Telegram user in a private chat with the bot (``chat_id == user_id``).

    Waiting methods count the bot's *outgoing events* in this chat: every successful
    sendMessage / sendDocument / sendPhoto and every successful editMessageText /
    editMessageReplyMarkup. With ``expect=n`` they wait for ``n`` events and return the
    messages of exactly those first ``n`` events, in their current state (later edits
    included), each message once, in the order of their first event. Anything the bot
    does afterwards is left for :meth:`receive`, so ``[reply] = await p.send("hej")``
    does not depend on timing.
    """

    def __init__(self, standin: BotAPIStandIn, user: dict[str, Any]) -> None:
        self._standin = standin
        #: The Telegram ``User`` object sent in this person's updates.
        self.user = user
        self.user_id = int(user["id"])
        # Bot events before this index have been handed to the test already (receive()).
        self._cursor = len(self._events)

    # ------------------------------------------------------------------ identity

    @property
    def chat_id(self) -> int:
        """The private chat's id, equal to the user id."""
        return self.user_id

    @property
    def first_name(self) -> str:
        """The person's first name."""
        return str(self.user["first_name"])

    @property
    def language_code(self) -> str | None:
        """The Telegram client language the person's updates carry."""
        value = self.user.get("language_code")
        return value if isinstance(value, str) else None

    @property
    def username(self) -> str | None:
        """The person's @username, if any."""
        value = self.user.get("username")
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        return f"Person(user_id={self.user_id}, first_name={self.first_name!r})"

    # ------------------------------------------------------------------ what the person sees

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's (not deleted) messages in this chat, oldest first."""
        return [m for m in self._standin.chat(self.chat_id) if m.from_bot]

    @property
    def history(self) -> list[ChatMessage]:
        """All (not deleted) messages of the chat, both sides, oldest first."""
        return self._standin.chat(self.chat_id)

    @property
    def last(self) -> ChatMessage:
        """The newest bot message in its current state.

        :raises AssertionError: when the bot has not written to this person.
        """
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot has sent no messages to {self!r}")
        return messages[-1]

    @property
    def documents(self) -> list[ChatMessage]:
        """The bot's document messages in this chat."""
        return self._standin.documents(self.chat_id)

    def _keyboard_message(self, message: ChatMessage | None) -> ChatMessage | None:
        if message is not None:
            return message
        return next((m for m in reversed(self.messages) if m.inline_keyboard), None)

    def buttons(self, message: ChatMessage | None = None) -> list[str]:
        """Inline button texts of ``message`` (default: the newest message with a keyboard)."""
        found = self._keyboard_message(message)
        return found.buttons if found is not None else []

    def button_rows(self, message: ChatMessage | None = None) -> list[list[str]]:
        """Like :meth:`buttons`, row by row."""
        found = self._keyboard_message(message)
        return found.button_rows if found is not None else []

    def reply_keyboard(self) -> list[list[str]]:
        """The reply keyboard the person currently sees (rows of texts), else [].

        The newest bot message that set or removed a reply keyboard decides. Pressing a
        reply button is just sending its text: ``await person.send("Ja")``.
        """
        for message in reversed(self.messages):
            markup = message.reply_markup or {}
            if "keyboard" in markup:
                return message.reply_keyboard
            if markup.get("remove_keyboard"):
                return []
        return []

    # ------------------------------------------------------------------ blocking

    def block(self) -> None:
        """Block the bot (its sends to this chat fail with 403 from now on)."""
        self._standin.block(self.user_id)

    def unblock(self) -> None:
        """Unblock the bot."""
        self._standin.unblock(self.user_id)

    # ------------------------------------------------------------------ waiting for the bot

    @property
    def _events(self) -> list[int]:
        return self._standin.world.bot_events_of(self.chat_id)

    def _distinct(self, message_ids: list[int]) -> list[ChatMessage]:
        result: list[ChatMessage] = []
        seen: set[int] = set()
        for message_id in message_ids:
            message = self._standin.message(self.chat_id, message_id)
            if message is not None and message_id not in seen:
                seen.add(message_id)
                result.append(message)
        return result

    async def _collect(
        self,
        base: int,
        expect: int,
        timeout: float,
        what: str,
    ) -> list[ChatMessage]:
        """Wait for ``expect`` bot events after index ``base``; return their messages."""
        events = self._events
        if expect <= 0:
            self._cursor = max(self._cursor, base)
            return []
        await self._standin.wait_for(
            lambda: len(events) >= base + expect,
            timeout=timeout,
            message=(
                f"{self!r}: expected {expect} bot message(s)/edit(s) after {what}, "
                f"got {len(events) - base}"
            ),
        )
        self._cursor = base + expect
        return self._distinct(events[base : base + expect])

    async def receive(self, expect: int = 1, *, timeout: float = 5.0) -> list[ChatMessage]:
        """Wait for ``expect`` bot messages/edits the test has not seen yet (e.g. pushes).

        Counts from the end of what the previous send/press/receive consumed, so a message
        that arrived before this call is not missed.
        """
        return await self._collect(self._cursor, expect, timeout, "receive()")

    # ------------------------------------------------------------------ sending messages

    def _inject_message(self, **fields: Any) -> int:
        message = self._standin.world.add_user_message(self.chat_id, **fields)
        return self._standin.inject_update({"message": self._standin.world.message_json(message)})

    def send_nowait(self, text: str) -> int:
        """Inject a text message without waiting; returns its update_id."""
        entities: list[dict[str, Any]] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        return self._inject_message(text=text, entities=entities)

    async def send(self, text: str, *, expect: int = 1, timeout: float = 5.0) -> list[ChatMessage]:
        """Send a text message, wait for ``expect`` bot messages/edits, return those.

        ``expect=0`` returns at once with an empty list.
        """
        base = len(self._events)
        self.send_nowait(text)
        return await self._collect(base, expect, timeout, f"sending {text!r}")

    def _media_id(self, kind: str) -> tuple[str, str]:
        number = next(_media_ids)
        return f"user-{kind}-{number:06d}", f"AQADuser{kind}{number:06d}"

    async def send_sticker(
        self,
        *,
        emoji: str = "👍",
        expect: int = 1,
        timeout: float = 5.0,
    ) -> list[ChatMessage]:
        """Send a sticker (a message without text) and wait like :meth:`send`."""
        file_id, unique_id = self._media_id("sticker")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        base = len(self._events)
        self._inject_message(kind="sticker", extra={"sticker": sticker})
        return await self._collect(base, expect, timeout, "sending a sticker")

    async def send_photo(
        self,
        *,
        caption: str | None = None,
        expect: int = 1,
        timeout: float = 5.0,
    ) -> list[ChatMessage]:
        """Send a photo (optionally captioned, never with text) and wait like :meth:`send`."""
        file_id, unique_id = self._media_id("photo")
        sizes = [
            {
                "file_id": f"{file_id}-s",
                "file_unique_id": f"{unique_id}s",
                "width": 90,
                "height": 67,
            },
            {"file_id": file_id, "file_unique_id": unique_id, "width": 1280, "height": 960},
        ]
        base = len(self._events)
        self._inject_message(kind="photo", caption=caption, extra={"photo": sizes})
        return await self._collect(base, expect, timeout, "sending a photo")

    async def send_voice(
        self,
        *,
        duration: int = 3,
        expect: int = 1,
        timeout: float = 5.0,
    ) -> list[ChatMessage]:
        """Send a voice message and wait like :meth:`send`."""
        file_id, unique_id = self._media_id("voice")
        voice = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        base = len(self._events)
        self._inject_message(kind="voice", extra={"voice": voice})
        return await self._collect(base, expect, timeout, "sending a voice message")

    async def edit_message(
        self,
        message_id: int,
        new_text: str,
        *,
        expect: int = 0,
        timeout: float = 5.0,
    ) -> list[ChatMessage]:
        """Edit one of this person's own text messages (an ``edited_message`` update)."""
        message = self._standin.message(self.chat_id, message_id)
        if message is None or message.from_bot or message.deleted or message.text is None:
            raise AssertionError(f"{self!r} has no text message {message_id} to edit")
        message.keep_revision()
        message.text = new_text
        message.entities = []
        message.edited_count += 1
        message.edit_date = int(time.time())
        base = len(self._events)
        self._standin.inject_update({"edited_message": self._standin.world.message_json(message)})
        return await self._collect(base, expect, timeout, f"editing message {message_id}")

    def delete_message(self, message_id: int) -> None:
        """Delete a message of the chat for both sides, as the person can in Telegram's
        apps; the bot's edits of it then get "message to edit not found"."""
        self._standin.delete_by_person(self.chat_id, message_id)

    # ------------------------------------------------------------------ pressing buttons

    def _find_button_message(self, button_text: str, message_id: int | None) -> ChatMessage:
        if message_id is not None:
            candidates = [m for m in self.messages if m.message_id == message_id]
        else:
            candidates = list(reversed(self.messages))
        for message in candidates:
            if message.button(button_text) is not None:
                return message
        keyboards = [
            f"  message {m.message_id}: {m.button_rows}"
            for m in reversed(self.messages)
            if m.inline_keyboard
        ]
        where = f"message {message_id}" if message_id is not None else "any bot message"
        visible = "\n".join(keyboards) or "  (no inline keyboards)"
        raise AssertionError(
            f"{self!r}: no inline button {button_text!r} on {where}; visible buttons:\n{visible}",
        )

    def _inject_callback(self, message: ChatMessage, data: str) -> str:
        callback_id = self._standin.world.new_callback_id()
        self._standin.inject_update(
            {
                "callback_query": {
                    "id": callback_id,
                    "from": dict(self.user),
                    "chat_instance": self._standin.world.chat_instance(self.chat_id),
                    "message": self._standin.world.message_json(message),
                    "data": data,
                },
            },
        )
        return callback_id

    def press_nowait(self, button_text: str, *, message_id: int | None = None) -> str:
        """Press an inline button without waiting; returns the callback query id.

        Handy for double taps: call it twice in a row, then wait for the answers.
        """
        message = self._find_button_message(button_text, message_id)
        button = message.button(button_text) or {}
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(f"button {button_text!r} has no callback_data: {button}")
        return self._inject_callback(message, data)

    def press_data_nowait(self, data: str, *, message_id: int) -> str:
        """Send a callback query with arbitrary (possibly forged) data; no waiting."""
        message = self._standin.message(self.chat_id, message_id)
        if message is None or not message.from_bot or message.deleted:
            raise AssertionError(f"{self!r}: no bot message {message_id} to press on")
        return self._inject_callback(message, data)

    async def wait_answer(
        self,
        callback_id: str,
        *,
        since: int = 0,
        timeout: float = 5.0,
    ) -> CallbackAnswer:
        """Wait until the bot called answerCallbackQuery for ``callback_id``."""
        calls = self._standin.calls
        scanned = since  # calls before this one are known not to be the answer

        def find() -> int | None:
            nonlocal scanned
            for index in range(scanned, len(calls)):
                call = calls[index]
                if call.method == "answerCallbackQuery" and (
                    str(call.params.get("callback_query_id")) == callback_id
                ):
                    return index
            scanned = len(calls)
            return None

        await self._standin.wait_for(
            lambda: find() is not None,
            timeout=timeout,
            message=f"{self!r}: the bot did not answer callback query {callback_id}",
        )
        index = find()
        assert index is not None
        params = calls[index].params
        text = params.get("text")
        url = params.get("url")
        return CallbackAnswer(
            text=text if isinstance(text, str) else None,
            show_alert=params.get("show_alert") is True,
            url=url if isinstance(url, str) else None,
        )

    async def _press(
        self,
        inject: Any,
        *,
        expect: int,
        timeout: float,
        what: str,
    ) -> CallbackAnswer:
        since = len(self._standin.calls)
        base = len(self._events)
        callback_id = str(inject())
        answer = await self.wait_answer(callback_id, since=since, timeout=timeout)
        await self._collect(base, expect, timeout, what)
        return answer

    async def press(
        self,
        button_text: str,
        *,
        message_id: int | None = None,
        expect: int = 0,
        timeout: float = 5.0,
    ) -> CallbackAnswer:
        """Press the inline button with exactly this text and wait for the bot's answer.

        The button is looked up on the newest bot message that has it (or on
        ``message_id``). Waits until the bot called answerCallbackQuery for this press,
        and, with ``expect`` > 0, also for that many bot messages/edits in the chat.

        :raises AssertionError: listing the visible buttons when there is no such button.
        """
        return await self._press(
            lambda: self.press_nowait(button_text, message_id=message_id),
            expect=expect,
            timeout=timeout,
            what=f"pressing {button_text!r}",
        )

    async def press_data(
        self,
        data: str,
        *,
        message_id: int,
        expect: int = 0,
        timeout: float = 5.0,
    ) -> CallbackAnswer:
        """Like :meth:`press` but with arbitrary (forged) callback data on ``message_id``."""
        return await self._press(
            lambda: self.press_data_nowait(data, message_id=message_id),
            expect=expect,
            timeout=timeout,
            what=f"pressing data {data!r}",
        )
