"""Languages on the web pages: the same gettext catalogs as the chat."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from surveys.questionnaire.translation import (
    LOCALES,
    date_text,
    normalise_locale,
    number_text,
    translations,
)

__all__ = [
    "LANGUAGE_NAMES",
    "LOCALES",
    "date_text",
    "gettext_for",
    "normalise_locale",
    "number_text",
]

# Each language named in itself, for the switch.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}


@lru_cache(maxsize=len(LOCALES))
def gettext_for(locale: str) -> Callable[[str], str]:
    """The catalog's gettext for ``locale``; Danish, the source language, is its own."""
    return translations(normalise_locale(locale)).gettext
