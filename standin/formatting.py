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

import string
from typing import Any

__all__ = ["EntityParseError", "parse_formatted", "utf16_len"]

# Tag -> entity type, as listed in the Bot API's "HTML style" section
# (https://core.telegram.org/bots/api#html-style).
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

# What Telegram's parser counts as space between a tag's name and its attributes.
_SPACES = frozenset(" \t\n\r\v\f")
# An attribute value without quotes is a name token: letters, digits, "." and "-".
_NAME_TOKEN = frozenset(string.ascii_letters + string.digits + ".-")


class EntityParseError(ValueError):
    """The formatted text cannot be parsed; the message is Telegram's detail text."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class _HTMLScanner:
    """Telegram's HTML parse mode: plain text and entities, or Telegram's error text.

    The rules and the error texts follow the Bot API server's parser (tdlib,
    td/telegram/MessageEntity.cpp ``parse_html``, and its tests in
    test/message_entities.cpp): errors name the offending tag and its byte offset in
    the UTF-8 text the bot sent, e.g. ``Unsupported start tag "p" at byte offset 3``.

    One rule is stricter than Telegram: an "&" that starts no entity is refused. Telegram
    keeps it as text, but the Bot API asks for every "&" outside an entity to be written
    "&amp;", and a name from a CSV file that reaches a message unescaped is a bug the
    tests should catch before a "<" in the next name makes Telegram refuse the message.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.parts: list[str] = []
        self.position = 0  # in UTF-16 code units
        # (tag, argument, UTF-16 offset, index into parts) of every open tag
        self.stack: list[tuple[str, str, int, int]] = []
        self.entities: list[dict[str, Any]] = []

    def _at(self, index: int) -> str:
        return self.text[index] if index < len(self.text) else ""

    def _offset(self, index: int) -> int:
        return len(self.text[:index].encode("utf-8"))

    def _error(self, what: str, index: int) -> EntityParseError:
        return EntityParseError(f"{what} at byte offset {self._offset(index)}")

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.position += utf16_len(text)

    def _entity_at(self, index: int) -> tuple[str, int] | None:
        """The character an entity at ``index`` stands for and where it ends, or None."""
        text, end = self.text, index + 1
        if self._at(end) == "#":
            end += 1
            hexadecimal = self._at(end) == "x"
            end += hexadecimal
            digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            start = end
            while self._at(end) and self._at(end) in digits:
                end += 1
            code = int(text[start:end], 16 if hexadecimal else 10) if end > start else 0
            # Telegram leaves out-of-range and overlong references as text.
            if code == 0 or code >= 0x10FFFF or end - index >= 10:
                return None
            character = chr(code)
        else:
            while self._at(end).isascii() and self._at(end).isalpha():
                end += 1
            found = _NAMED_ENTITIES.get(text[index + 1 : end])
            if found is None:
                return None
            character = found
        # The closing ";" is optional, as in Telegram ("&lt" is "<").
        return character, end + 1 if self._at(end) == ";" else end

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        while self.i < len(self.text):
            character = self.text[self.i]
            if character == "&":
                decoded = self._entity_at(self.i)
                if decoded is None:
                    raise self._error(
                        'Character "&" is not part of an entity; write "&amp;"', self.i
                    )
                self._append(decoded[0])
                self.i = decoded[1]
            elif character == "<":
                if self._at(self.i + 1) == "/":
                    self._end_tag()
                else:
                    self._start_tag()
            else:
                self._append(character)
                self.i += 1
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        # A language only counts on code inside pre; Telegram drops it elsewhere.
        for entity in self.entities:
            entity.pop("language_of_code", None)
        # Entities are reported sorted by offset, outer before inner, like Telegram does.
        # An outer tag closes after the inner one, so on a tie the later entity goes first.
        order = sorted(
            enumerate(self.entities),
            key=lambda pair: (pair[1]["offset"], -pair[1]["length"], -pair[0]),
        )
        entities = [entity for _, entity in order]
        return "".join(self.parts), entities

    def _skip_spaces(self) -> None:
        while self._at(self.i) in _SPACES and self._at(self.i):
            self.i += 1

    def _start_tag(self) -> None:
        begin = self.i
        self.i += 1
        while self._at(self.i) and self._at(self.i) not in _SPACES and self._at(self.i) != ">":
            self.i += 1
        if not self._at(self.i):
            raise self._error("Unclosed start tag", begin)
        tag = self.text[begin + 1 : self.i].lower()
        if tag not in _HTML_TAGS:
            raise self._error(f'Unsupported start tag "{tag}"', begin)
        argument = ""
        while self._at(self.i) != ">":
            self._skip_spaces()
            if self._at(self.i) == ">":
                break
            name_begin = self.i
            while (
                self._at(self.i)
                and self._at(self.i) not in _SPACES
                and self._at(self.i) not in "=>"
            ):
                self.i += 1
            name = self.text[name_begin : self.i]
            if not name:
                raise self._error(f'Empty attribute name in the tag "{tag}"', begin)
            self._skip_spaces()
            if tag == "blockquote" and name == "expandable" and self._at(self.i) != "=":
                argument = "expandable"  # the one attribute without a value
                continue
            if self._at(self.i) != "=":
                raise self._error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}"', begin
                )
            self.i += 1
            self._skip_spaces()
            if not self._at(self.i):
                raise self._error(f'Unclosed start tag "{tag}"', begin)
            value = self._attribute_value()
            if not self._at(self.i):
                raise self._error("Unclosed start tag", begin)
            if (tag, name) in (("a", "href"), ("tg-emoji", "emoji-id")):
                argument = value
            elif (tag, name) == ("code", "class") and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif (tag, name) == ("span", "class") and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
        if tag == "span" and argument != "spoiler":
            raise self._error('Tag "span" must have class "tg-spoiler"', begin)
        self.i += 1  # the ">"
        self.stack.append((tag, argument, self.position, len(self.parts)))

    def _attribute_value(self) -> str:
        quote = self._at(self.i)
        if quote not in ("'", '"'):
            # Name tokens are not case-sensitive.
            begin = self.i
            while self._at(self.i) and self._at(self.i) in _NAME_TOKEN:
                self.i += 1
            if self._at(self.i) and self._at(self.i) not in _SPACES and self._at(self.i) != ">":
                raise self._error("Unexpected end of name token", begin)
            return self.text[begin : self.i].lower()
        self.i += 1
        value: list[str] = []
        while self._at(self.i) and self._at(self.i) != quote:
            decoded = self._entity_at(self.i) if self._at(self.i) == "&" else None
            if decoded is not None:
                value.append(decoded[0])
                self.i = decoded[1]
            else:
                value.append(self.text[self.i])
                self.i += 1
        if self._at(self.i) == quote:
            self.i += 1
        return "".join(value)

    def _end_tag(self) -> None:
        begin = self.i
        if not self.stack:
            raise self._error("Unexpected end tag", begin)
        self.i += 2
        while self._at(self.i) and self._at(self.i) not in _SPACES and self._at(self.i) != ">":
            self.i += 1
        name = self.text[begin + 2 : self.i].lower()
        self._skip_spaces()
        if self._at(self.i) != ">":
            raise self._error("Unclosed end tag", begin)
        self.i += 1
        tag, argument, offset, first_part = self.stack.pop()
        if name and name != tag:
            # "</>" closes whatever is open; a named end tag must match.
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._offset(begin)}, "
                f'expected "</{tag}>", found "</{name}>"'
            )
        length = self.position - offset
        if length > 0:
            self._add_entity(tag, argument, offset, length, "".join(self.parts[first_part:]))

    def _add_entity(self, tag: str, argument: str, offset: int, length: int, inner: str) -> None:
        entity: dict[str, Any] = {"type": _HTML_TAGS[tag], "offset": offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        if tag == "tg-emoji":
            if not argument.isdigit() or not 0 < int(argument) < 2**63:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity["custom_emoji_id"] = argument
        elif tag == "a":
            entity["url"] = argument or inner
        elif tag == "blockquote" and argument == "expandable":
            entity["type"] = "expandable_blockquote"
        elif tag == "pre" and same_span and last is not None and last.get("language_of_code"):
            # <pre><code class="language-x">: one pre entity with its language.
            self.entities[-1] = {**entity, "language": last["language_of_code"]}
            return
        elif tag == "code" and argument:
            if same_span and last is not None and last["type"] == "pre":
                last["language"] = argument  # <code class="language-x"><pre>
                return
            entity["language_of_code"] = argument
        self.entities.append(entity)


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    return _HTMLScanner(text).parse()


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
