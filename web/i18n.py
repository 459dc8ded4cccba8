"""Languages on the web pages: the same gettext catalogs as the chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal

from surveys.clock import DANISH_TIME
from surveys.questionnaire.translation import translations

DEFAULT_LOCALE = "da"
LOCALES = ("da", "en")
# Each language named in itself, for the switch.
LANGUAGE_NAMES = {"da": "Dansk", "en": "English"}


def normalise_locale(code: str | None) -> str:
    """One of our locales for anything a cookie or a form may hold."""
    base = (code or "").replace("-", "_").split("_")[0].lower()
    return base if base in LOCALES else DEFAULT_LOCALE


@lru_cache(maxsize=len(LOCALES))
def gettext_for(locale: str) -> Callable[[str], str]:
    """The catalog's gettext for ``locale``; Danish, the source language, is its own."""
    return translations(normalise_locale(locale)).gettext


@lru_cache(maxsize=1024)
def number_text(value: int | float, locale: str) -> str:
    """A number as the language writes it (remembered: every question page writes two)."""
    return format_decimal(value, locale=locale)


def date_text(value: datetime, locale: str) -> str:
    """A date as people write it in their language ("14. december 2026")."""
    return format_date(value.astimezone(DANISH_TIME), format="long", locale=locale)
