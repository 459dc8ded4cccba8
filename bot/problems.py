"""Domain errors (``surveys.errors.PejlingError``) as text in the reader's language.

The texts are Danish msgids in the gettext catalog, with their English translation in
locale/en, so a staff member reads a refused /runde in Danish (or English after /sprog).
"""

from __future__ import annotations

import logging

from aiogram.utils.i18n import lazy_gettext as __
from babel.support import LazyProxy

from surveys.errors import PejlingError, Problem

logger = logging.getLogger(__name__)

# Deferred translation, one way in all of Pejling: aiogram's lazy_gettext (``__``, the
# keyword babel.cfg and README extract with). A table like this one is built when the module
# is imported, before anyone's language is known; each proxy is translated when it is turned
# into text (``str``), inside the update's I18n context, so every person gets their own
# language. The domain (surveys/) defers nothing: it hands the edges codes and values.
TEXTS: dict[Problem, LazyProxy] = {
    Problem.NO_UNITS: __("Vælg mindst én enhed."),
    Problem.CLOSING_IN_PAST: __("Runden skal lukke et tidspunkt ude i fremtiden."),
    Problem.NO_ITEMS_FOR_AUDIENCE: __(
        "Spørgeskemaet «{survey}» har ingen spørgsmål til {audience}."
    ),
    Problem.BAD_REMINDERS: __("Højst to påmindelser, hver mindst en dag efter invitationen."),
    Problem.SURVEY_CHANGED: __(
        "Spørgeskemaet «{survey}» version {version} er ændret, efter at det blev brugt. "
        "Bed den, der passer Pejling, om at give filen et nyt versionsnummer."
    ),
    Problem.NO_ROUND: __("Runde {round_id} findes ikke."),
    Problem.NO_ROUND_IN_PERIOD: __("Der er ingen runder i den periode."),
    Problem.NO_ROUND_OF_VERSION: __("Der er ingen runder i den periode."),
}
"""The problems a person can meet in the chat (/runde, /eksport), by code."""

OTHER = __("Det kunne ikke lade sig gøre. Kontakt den, der passer Pejling i kommunen.")


def problem_text(error: PejlingError, **shown: object) -> str:
    """``error`` in the language of the update being handled; ``shown`` gives values as the
    reader should see them (a translated label instead of a stored value)."""
    text = TEXTS.get(error.problem)
    if text is None:
        # A code the chat was not expected to meet: a polite sentence, and the details in the log.
        logger.warning("no chat text for %s (%s)", error.problem, error)
        return str(OTHER)
    return str(text).format(**{**error.values, **shown})
