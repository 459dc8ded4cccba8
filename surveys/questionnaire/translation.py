"""The gettext catalogs in locale/, for code outside the chat (letters, survey checks,
the web pages), and the languages' ways of writing numbers and dates, for both edges.

The chat uses aiogram's I18n on the same catalogs; this module is the one place that
knows where they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from surveys.clock import DANISH_TIME
from surveys.questionnaire.schema import Survey

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
DOMAIN = "pejling"
SOURCE_LOCALE = "da"
"""Danish: the language the texts are written in, and what a person sees until they choose."""
LOCALES = (SOURCE_LOCALE, "en")
"""Every language a person can choose (the bot's /sprog, letters, the web pages)."""


def normalise_locale(code: str | None) -> str:
    """One of our locales for any language code Telegram, a cookie or a form may hold
    ("", "en_US", "zh-hans")."""
    base = (code or "").replace("-", "_").split("_")[0].lower()
    return base if base in LOCALES else SOURCE_LOCALE


@lru_cache(maxsize=4096)
def number_text(value: int | float, locale: str) -> str:
    """A number as the language writes it (remembered: every question shows two)."""
    return format_decimal(value, locale=locale)


def date_text(value: datetime, locale: str) -> str:
    """A date as people write it in their language ("14. december 2026")."""
    return format_date(value.astimezone(DANISH_TIME), format="long", locale=locale)


def translations(locale: str) -> NullTranslations:
    """The compiled catalog for ``locale``; Danish, the source language, is its own."""
    return Translations.load(str(LOCALE_DIR), [locale], domain=DOMAIN)


def survey_texts(survey: Survey) -> Iterator[str]:
    """Every text of a survey a person can read, as the catalogs know it."""
    yield survey.title
    yield survey.intro
    yield survey.name_fallback
    yield survey.comment.prompt
    yield survey.comment.warning
    for scale in survey.scales.values():
        yield from scale.options
    for item in survey.items:
        if isinstance(item.text, str):
            yield item.text
        else:
            yield from item.text.values()


def missing_translations(survey: Survey, locale: str = "en") -> list[str]:
    """The survey's texts the ``locale`` catalog has no translation for, in file order."""
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
        catalog = read_po(po)
    missing = []
    for text in survey_texts(survey):
        message = catalog.get(text)
        if (message is None or not message.string) and text not in missing:
            missing.append(text)
    return missing
