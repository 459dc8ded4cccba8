"""The information text before the first question (GDPR art. 13), shared by the edges.

The chat and the web pages show the same words from the same catalog entries; only the
sentence saying how to use one's rights differs, as the chat has commands and the web
has pages. The caller passes its gettext for the person's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class RightsWay(StrEnum):
    CHAT = "chat"
    WEB = "web"


@dataclass(frozen=True)
class Information:
    """The text in parts: a greeting, the points to know, and the question."""

    greeting: str
    points: tuple[str, ...]
    question: str


def information(
    gettext: Callable[[str], str],
    *,
    municipality: str,
    months: str,
    contact: str,
    rights: RightsWay,
) -> Information:
    """The information text in the language of ``gettext``; values are inserted as given
    (the caller escapes them for its medium and formats the number for the language)."""
    _ = gettext
    if rights == RightsWay.CHAT:
        rights_text = _(
            "Du kan altid se dine data (/mine_data), slette dem (/slet) "
            "eller sige nej tak til flere spørgeskemaer (/stop)."
        )
        anonymous_text = _(
            "Spørgeskemaerne er anonyme: når du har afsluttet et, eller det er lukket, kan "
            "dine svar og kommentarer ikke længere kobles til dig. Så kan /slet heller ikke "
            "finde dem; de slettes efter de {months} måneder som alle andre svar."
        )
    else:
        rights_text = _(
            "Du kan altid se dine data, slette dem eller sige nej tak til flere "
            "spørgeskemaer under «Dine data» nederst på siden."
        )
        anonymous_text = _(
            "Spørgeskemaerne er anonyme: når du har afsluttet et, eller det er lukket, kan "
            "dine svar og kommentarer ikke længere kobles til dig. Så kan sletningen under "
            "«Dine data» heller ikke finde dem; de slettes efter de {months} måneder som alle "
            "andre svar."
        )
    return Information(
        greeting=_(
            "Hej! Dette er {municipality}s automatiske spørgeskema-service. "
            "Vi vil gerne høre, hvordan du oplever hjælpen og plejen."
        ).format(municipality=municipality),
        points=(
            _(
                "Det er frivilligt at svare. Om du svarer eller ej, ændrer ikke noget ved "
                "den hjælp, du får."
            ),
            _(
                "Svarene bruges kun til statistik om kvaliteten – aldrig i din sag. "
                "Ingen medarbejder ser, hvad du har svaret."
            ),
            _(
                "Vi gemmer dine svar i højst {months} måneder. Derefter slettes de, "
                "og kun tal for hele enheden bliver tilbage."
            ).format(months=months),
            rights_text,
            anonymous_text.format(months=months),
            _("Kommunen er dataansvarlig. Spørgsmål: {contact}").format(contact=contact),
        ),
        question=_("Vil du være med?"),
    )
