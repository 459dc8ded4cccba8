"""Telegram's error texts, word for word, and ApiError, the error answer that carries them."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ApiError", "default_description"]

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
ERR_MESSAGE_ID_INVALID: Final = "Bad Request: MESSAGE_ID_INVALID"
ERR_CHAT_ID_EMPTY: Final = "Bad Request: chat_id is empty"
ERR_CHAT_NOT_FOUND: Final = "Bad Request: chat not found"
ERR_BLOCKED: Final = "Forbidden: bot was blocked by the user"
ERR_QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
ERR_MARKUP: Final = "Bad Request: can't parse reply keyboard markup JSON object"
ERR_TEXT_BUTTONS: Final = "Bad Request: text buttons are unallowed in the inline keyboard"
ERR_BAD_FILE: Final = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_EMPTY_FILE: Final = "Bad Request: file must be non-empty"
ERR_FILE_TOO_BIG: Final = "Request Entity Too Large"
ERR_COMMAND: Final = "Bad Request: BOT_COMMAND_INVALID"
# williamhorning/lightning#87
ERR_COMMAND_DESCRIPTION_EMPTY: Final = "Bad Request: command description must be non-empty"
# Telegram's text for this one was not found; the name follows its style.
ERR_COMMAND_DESCRIPTION: Final = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
ERR_CHAT_ACTION: Final = "Bad Request: wrong parameter action in request"
ERR_WEBHOOK_ACTIVE: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
ERR_POLL_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
ERR_UNAUTHORIZED: Final = "Unauthorized"
ERR_NOT_FOUND: Final = "Not Found"
ERR_BAD_GATEWAY: Final = "Bad Gateway"
ERR_BODY: Final = "Bad Request: can't parse request body"
ERR_JSON_BODY: Final = "Bad Request: invalid JSON body"


def err_entities(detail: object) -> str:
    """Telegram's text for a text whose formatting does not parse (detail: tdlib's words)."""
    return f"Bad Request: can't parse entities: {detail}"


def err_no_file(kind: str) -> str:
    """Telegram's text for a send of ``kind`` (document, photo) that carries no file."""
    return f"Bad Request: there is no {kind} in the request"


def default_description(status: int, retry_after: int | None = None) -> str:
    """Telegram's generic description for an HTTP status."""
    if status == 429:
        return f"Too Many Requests: retry after {retry_after or 1}"
    return _STATUS_TEXT.get(status, "Error")


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
