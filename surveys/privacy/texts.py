"""What /mine_data in the chat and «Dine data» on the web pages tell a person, in the same
words from the same catalog entries. The caller passes its gettext for the person's
language and how its medium quotes a name (HTML in the chat); the chat adds its own
first and last lines (the Telegram account, /slet)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.enums import Audience, InviteRole
from storage.housekeeping import KEEP_INVITE_FAILURES
from surveys.privacy.rights import MyData
from surveys.questionnaire.translation import date_text, number_text


@dataclass(frozen=True)
class MyDataText:
    """What is kept (one "• " line each) and when it goes."""

    kept: list[str]
    deletion: list[str]


def my_data_text(
    data: MyData,
    gettext: Callable[[str], str],
    locale: str,
    quote: Callable[[str], str] = str,
) -> MyDataText:
    _ = gettext
    kept = []
    for person in data.participations:
        # Names come from the municipality's files: the caller's medium quotes them.
        name = quote(person.citizen_name) if person.citizen_name else _("en borger")
        unit = quote(person.unit_name)
        if person.kind == Audience.CITIZEN:
            kept.append(_("• Du svarer som borger ved {unit}").format(unit=unit))
        else:
            kept.append(
                _("• Du svarer som pårørende til {name} ved {unit}").format(name=name, unit=unit)
            )
    for role, units in data.staff_roles:
        if role == InviteRole.COORDINATOR:
            kept.append(_("• Du er kvalitetskoordinator"))
        else:
            kept.append(
                _("• Du er medarbejder ved {units}").format(
                    units=", ".join(quote(unit) for unit in units)
                )
            )
    kept.append(
        _("• Spørgeskemaer: {surveys}, svar: {answers}, kommentarer: {comments}").format(
            surveys=number_text(data.surveys, locale),
            answers=number_text(data.answers, locale),
            comments=number_text(data.comments, locale),
        )
    )
    kept.append(
        _("• Sprog: {language}").format(language=_("engelsk") if locale == "en" else _("dansk"))
    )
    if data.stopped_at is not None:
        kept.append(_("• Du har sagt nej tak til flere spørgeskemaer"))
    if data.failed_links:
        kept.append(failed_links_line(data.failed_links, gettext, locale))
    deletion = []
    if data.delete_by is not None:
        deletion.append(
            _("Dine svar slettes senest {date}.").format(date=date_text(data.delete_by, locale))
        )
    if data.anonymous_rounds and data.anonymous_delete_by is not None:
        deletion.append(
            _(
                "Spørgeskemaer med anonyme svar: {count}. Dine svar og kommentarer i dem kan "
                "ikke længere kobles til dig og tælles ikke med her. De slettes senest {date}."
            ).format(
                count=number_text(data.anonymous_rounds, locale),
                date=date_text(data.anonymous_delete_by, locale),
            )
        )
    return MyDataText(kept, deletion)


def failed_links_line(count: int, gettext: Callable[[str], str], locale: str) -> str:
    """The wrong invite links tried lately, kept for a while against guessing."""
    return gettext("• Links, der ikke virkede: {count} (slettes efter {hours} timer)").format(
        count=number_text(count, locale),
        hours=number_text(int(KEEP_INVITE_FAILURES.total_seconds() // 3600), locale),
    )
