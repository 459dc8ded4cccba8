"""Keeping what the bot sends inside Telegram's limits: pages of buttons, parts of texts.

An inline keyboard holds at most 100 buttons and a message at most 4096 characters
(see standin/methods.py for the sources). A municipality can have more units and
rounds than fit, so long lists are shown a page at a time and long texts are sent in
several messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.keyboard import InlineKeyboardBuilder

T = TypeVar("T")

PAGE_SIZE = 20
"""Choices per page: a screenful on a phone, far below the 100 buttons Telegram allows."""

MAX_MESSAGE = 4096

# Where a too long text may be cut, best first. None of them occurs inside an HTML
# entity ("&amp;"), and the texts split here carry no tags.
_CUTS = ("\n\n", "\n", ", ", " ")


def page_of(items: Sequence[T], page: int) -> tuple[Sequence[T], int, int]:
    """The items on ``page`` (0-based, clamped to the pages there are), that page, and
    the number of pages."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], page, pages


def add_page_buttons(
    builder: InlineKeyboardBuilder, page: int, pages: int, data: Callable[[int], CallbackData]
) -> None:
    """Buttons to the previous and the next page, where there is one. They show page
    numbers only, which read the same in every language."""
    if page > 0:
        builder.button(text=f"◀ {page}/{pages}", callback_data=data(page - 1))
    if page + 1 < pages:
        builder.button(text=f"{page + 2}/{pages} ▶", callback_data=data(page + 1))


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, cut at paragraph, line, list
    or word boundaries. Lengths are counted on the escaped HTML, which is never shorter
    than what Telegram counts, so every part fits."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        for separator in _CUTS:
            at = window.rfind(separator)
            if at > 0:
                cut, skip = at, len(separator)
                break
        else:
            # One word longer than a message: cut it, but not inside an entity.
            cut, skip = limit, 0
            entity = window.rfind("&", 0, cut)
            if entity > 0 and ";" not in window[entity:cut]:
                cut = entity
        parts.append(rest[:cut])
        rest = rest[cut + skip :]
    if rest:
        parts.append(rest)
    return parts
