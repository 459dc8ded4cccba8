"""Languages: gettext catalogs in locale/, the person's choice kept in the database."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TelegramAccount
from surveys.clock import DANISH_TIME
from surveys.journey import language_before_joining
from surveys.questionnaire.translation import DOMAIN, LOCALE_DIR, LOCALES, SOURCE_LOCALE


def make_i18n() -> I18n:
    """The catalogs; Danish is the source language, so it needs no catalog of its own."""
    return I18n(path=LOCALE_DIR, default_locale=SOURCE_LOCALE, domain=DOMAIN)


def normalise_locale(code: str | None) -> str:
    """One of our locales for any language code Telegram may send ("", "en_US", "zh-hans")."""
    base = (code or "").replace("-", "_").split("_")[0].lower()
    return base if base in LOCALES else SOURCE_LOCALE


class AccountI18nMiddleware(I18nMiddleware):
    """Picks the language the person chose with /sprog (or on the information text);
    Danish until they choose. Someone without an account yet may have chosen too."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        account: TelegramAccount | None = data.get("account")
        if account is not None:
            return normalise_locale(account.locale)
        user: User | None = data.get("event_from_user")
        session: AsyncSession | None = data.get("session")
        if user is None or session is None:
            return SOURCE_LOCALE
        return normalise_locale(await language_before_joining(session, user.id))


def date_text(value: datetime, locale: str) -> str:
    """A date as people write it in their language ("14. december 2026")."""
    return format_date(value.astimezone(DANISH_TIME), format="long", locale=locale)


@lru_cache(maxsize=4096)
def number_text(value: int | float, locale: str) -> str:
    """A number in the person's language (remembered: every question shows two)."""
    return format_decimal(value, locale=locale)
