"""Plain records kept by the Bot API stand-in: calls, chat messages, files, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiCall",
    "CallbackAnswer",
    "ChatMessage",
    "MessageRevision",
    "StoredFile",
    "UploadedFile",
]


@dataclass(frozen=True)
class StoredFile:
    """A file the bot uploaded (or re-sent by ``file_id``).

    ``data`` is empty when the bot sent an HTTP URL, which the stand-in cannot fetch.
    """

    filename: str | None
    data: bytes
    mime_type: str | None
    file_id: str
    file_unique_id: str

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as it appears in :attr:`ApiCall.params`."""

    filename: str | None
    data: bytes
    content_type: str | None


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request as received, with the HTTP status it was answered with.

    ``params`` are decoded (JSON fields parsed, numbers and booleans converted, uploaded
    files as :class:`UploadedFile`). ``timestamp`` is
    ``time.monotonic()`` at the moment the answer was decided.
    """

    method: str
    params: dict[str, Any]
    timestamp: float
    status: int
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        """True when the call succeeded (HTTP 200)."""
        return self.status == 200


@dataclass(frozen=True)
class MessageRevision:
    """The state of a message before one of its edits."""

    text: str | None
    entities: list[dict[str, Any]]
    caption: str | None
    reply_markup: dict[str, Any] | None
    date: int


@dataclass
class ChatMessage:
    """One message in a chat, from either side, in its current state.

    ``text`` is the plain text a person sees (HTML markup already parsed away, see
    :mod:`standin.formatting`); ``entities`` carries the formatting. ``reply_markup``
    is the markup as the bot sent it (inline or reply keyboard). Edits change the object
    in place and push the previous state onto ``history``.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    kind: str = "text"  # text, document, photo, sticker, voice
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    # Extra Telegram fields of user-side media messages (sticker, photo, voice objects).
    extra: dict[str, Any] = field(default_factory=dict)
    parse_mode: str | None = None
    edited_count: int = 0
    edit_date: int | None = None
    history: list[MessageRevision] = field(default_factory=list)
    deleted: bool = False
    # False once Telegram no longer lets the bot edit it (as with some old messages).
    editable: bool = True

    def keep_revision(self) -> None:
        """Before an edit: push the current state onto ``history``."""
        self.history.append(
            MessageRevision(
                text=self.text,
                entities=self.entities,
                caption=self.caption,
                reply_markup=self.reply_markup,
                date=self.edit_date or self.date,
            ),
        )

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (dicts as sent), empty when there is no inline keyboard."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard")
        if not isinstance(rows, list):
            return []
        return [
            [button for button in row if isinstance(button, dict)]
            for row in rows
            if isinstance(row, list)
        ]

    @property
    def button_rows(self) -> list[list[str]]:
        """Texts of the inline keyboard, row by row."""
        return [[str(button.get("text", "")) for button in row] for row in self.inline_keyboard]

    @property
    def buttons(self) -> list[str]:
        """Texts of all inline buttons, in reading order."""
        return [text for row in self.button_rows for text in row]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Rows of a reply keyboard (the big buttons under the input field), else []."""
        rows = (self.reply_markup or {}).get("keyboard")
        if not isinstance(rows, list):
            return []
        return [
            [str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in row]
            for row in rows
            if isinstance(row, list)
        ]

    def button(self, text: str) -> dict[str, Any] | None:
        """The inline button with exactly this text, if any."""
        for row in self.inline_keyboard:
            for button in row:
                if button.get("text") == text:
                    return button
        return None

    @property
    def visible_text(self) -> str:
        """The text, or for media messages the caption (empty string when none)."""
        if self.text is not None:
            return self.text
        return self.caption or ""


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot passed to ``answerCallbackQuery`` for a pressed button."""

    text: str | None
    show_alert: bool
    url: str | None = None
