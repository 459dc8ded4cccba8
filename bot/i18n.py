"""Languages: gettext catalogs in locale/, the person's choice kept in the database."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TelegramAccount
from surveys.journey import language_before_joining
from surveys.questionnaire.translation import (
    DOMAIN,
    LOCALE_DIR,
    SOURCE_LOCALE,
    date_text,
    normalise_locale,
    number_text,
)

__all__ = ["AccountI18nMiddleware", "date_text", "make_i18n", "normalise_locale", "number_text"]


def make_i18n() -> I18n:
    """The catalogs; Danish is the source language, so it needs no catalog of its own."""
    return I18n(path=LOCALE_DIR, default_locale=SOURCE_LOCALE, domain=DOMAIN)


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
