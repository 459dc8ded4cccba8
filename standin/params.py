"""A Bot API request's parameters: undoing aiogram's encoding of each, reading integers."""

from __future__ import annotations

import json
import re
from typing import Any, Final

__all__ = ["Params", "as_int", "decode_value"]

Params = dict[str, Any]

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


def decode_value(key: str, value: Any) -> Any:
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


def as_int(value: Any) -> int | None:
    """An integer parameter (an int or its decimal string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.fullmatch(value):
        return int(value)
    return None
