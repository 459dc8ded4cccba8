"""Turn a formatted message text into what Telegram stores: plain text plus entities.

Telegram never keeps the markup a bot sends. With ``parse_mode=HTML`` it parses the tags,
rejects anything it does not support (the bot then gets ``400 Bad Request: can't parse
entities: ...``), strips the tags, and stores plain text with a list of entities whose
offsets are counted in UTF-16 code units. It also trims leading and trailing whitespace.

The stand-in does the same so that tests see what a person would see, so that the length
limits apply to the visible text (as they do in Telegram), and so that badly escaped
user-provided text (a stray ``<``) fails in tests instead of in production.

Markdown and MarkdownV2 are accepted but not parsed: the text is stored as sent.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

__all__ = ["EntityParseError", "parse_formatted", "utf16_len"]

# Tag -> entity type, as listed in the Bot API "HTML style" section.
_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

# Telegram only knows these four named entities; numeric references are all accepted.
_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(ValueError):
    """The formatted text cannot be parsed; the message is Telegram's detail text."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class _HTMLToEntities(HTMLParser):
    """Collect plain text and entities; raise on anything Telegram would refuse."""

    def __init__(self) -> None:
        # convert_charrefs=False so that a literal "<" (invalid) can be told apart from
        # "&lt;" (valid) in handle_data.
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self.position = 0  # in UTF-16 code units
        self.stack: list[tuple[str, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.position += utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        kind = _HTML_TAGS.get(tag)
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        entity: dict[str, Any] = {"type": kind, "offset": self.position}
        if tag == "a":
            entity["url"] = attributes.get("href", "")
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id", "")
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = attributes.get("class", "")
            if language.startswith("language-"):
                self.stack[-1][1]["language"] = language.removeprefix("language-")
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<br/>" and friends: Telegram has no void tags, so treat as start + end.
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise EntityParseError(f'Unmatched end tag "{tag}"')
        _, entity = self.stack.pop()
        entity["length"] = self.position - entity["offset"]
        if entity["length"] > 0:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            # HTMLParser passes a "<" that does not open a valid tag through as text;
            # Telegram requires it to be escaped as &lt;.
            raise EntityParseError('Unexpected "<": escape it as "&lt;"')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        # Unknown named entities are left as literal text, as Telegram does.
        self._append(_NAMED_ENTITIES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            self._append(chr(code))
        except (ValueError, OverflowError) as exc:
            raise EntityParseError(f'Invalid character reference "&#{name};"') from exc

    def handle_comment(self, data: str) -> None:
        raise EntityParseError("Comments are not supported")

    def handle_decl(self, decl: str) -> None:
        raise EntityParseError("Declarations are not supported")

    def handle_pi(self, data: str) -> None:
        raise EntityParseError("Processing instructions are not supported")

    def unknown_decl(self, data: str) -> None:
        raise EntityParseError("Declarations are not supported")


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HTMLToEntities()
    parser.feed(text)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    # Entities are reported sorted by offset, outer before inner, like Telegram does.
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace and shift/clip the entities accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    end = utf16_len(stripped)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start = max(int(entity["offset"]) - shift, 0)
        stop = min(int(entity["offset"]) + int(entity["length"]) - shift, end)
        if stop > start:
            result.append({**entity, "offset": start, "length": stop - start})
    return stripped, result


def parse_formatted(
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` as Telegram would store the message.

    :raises EntityParseError: when ``parse_mode`` is HTML and the markup is invalid.
    """
    if parse_mode is not None and parse_mode.lower() == "html":
        plain, found = _parse_html(text)
    else:
        # Explicit entities are only honoured without parse_mode, as in the real API.
        plain, found = text, [dict(e) for e in (entities or []) if isinstance(e, dict)]
    return _strip(plain, found)
