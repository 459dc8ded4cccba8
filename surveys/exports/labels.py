"""The Danish words and number formats every export shares: one place for each."""

from __future__ import annotations

from storage.enums import Audience, Channel
from surveys.indicators import Change, Figure, FigureKey, FigureKind, Report, Suppression
from surveys.questionnaire.schema import Theme

MUNICIPALITY = "Hele kommunen"
HIGHER_IS_WORSE = "højere er værre"
HIGHER_IS_BETTER = "højere er bedre"

AUDIENCES = {Audience.CITIZEN: "Borgere", Audience.RELATIVE: "Pårørende"}
CHANNELS = {Channel.TELEGRAM: "Telegram", Channel.WEB: "Web"}
ALL_CHANNELS = "alle"
THEMES = {
    Theme.loneliness: "Ensomhed",
    Theme.meals: "Mad og måltider",
    Theme.continuity: "Kontinuitet",
    Theme.dignity: "Værdighed og selvbestemmelse",
    Theme.overall: "Samlet tilfredshed",
    Theme.context: "Hvem svarer",
}
SUPPRESSED = {
    Suppression.FEW_ANSWERS: "for få svar",
    Suppression.FEW_INVITED: "for få svar",
    Suppression.SECONDARY: "skjult (beskytter små tal)",
}
TILS_LABEL = "Svær ensomhed (T-ILS sum 7 eller mere)"

# Traffic colours for a share positive: fixed limits of our own, not a national norm.
GREEN_FROM = 0.80
YELLOW_FROM = 0.60


def channel_code(channel: Channel | None) -> str:
    """The channel as the CSV names it: "alle", "telegram" or "web"."""
    return ALL_CHANNELS if channel is None else channel.value


def suppressed_text(figure: Figure) -> str:
    """What a hidden figure says instead of a number."""
    return SUPPRESSED.get(figure.suppression, "for få svar")


def unit_name(report: Report, unit_id: int | None) -> str:
    """A unit's name, or "Hele kommunen" for the municipality."""
    if unit_id is None:
        return MUNICIPALITY
    for unit in report.units:
        if unit.id == unit_id:
            return unit.name
    return f"Enhed {unit_id}"


def item_text(report: Report, item_id: str, audience: Audience) -> str:
    """An item's Danish wording for an audience, placeholders shown as [navn]."""
    text = report.survey.text_for(item_id, audience)
    return text.replace("{name_gen}", "[navns]").replace("{name}", "[navn]")


def subject_label(report: Report, key: FigureKey) -> str:
    """What a figure is about, in Danish."""
    if key.kind == FigureKind.THEME:
        return THEMES.get(Theme(key.subject), key.subject)
    if key.kind == FigureKind.TILS:
        return TILS_LABEL
    if key.kind == FigureKind.NEGATIVE:
        scale = report.survey.scale_of(key.subject)
        worst = scale.options[0] if scale.best == "last" else scale.options[-1]
        return f"{key.subject}: andel «{worst}»"
    if key.kind == FigureKind.RESPONSE:
        return "Svarprocent"
    return f"{key.subject}: {item_text(report, key.subject, key.audience)}"


def direction(key: FigureKey) -> str:
    """ "højere er værre" for the loneliness figures, else "højere er bedre"."""
    return HIGHER_IS_WORSE if key.higher_is_worse else HIGHER_IS_BETTER


def percent(p: float, decimals: int = 0) -> str:
    """A share as Danes write it: 0.725 -> "72,5 %" (decimals=1)."""
    return f"{p * 100:.{decimals}f}".replace(".", ",") + " %"


def arrow(change: Change | None) -> str:
    """↑/↓ for a significant rise/fall of the figure, → for no sure change, "" for none."""
    if change is None:
        return ""
    if not change.significant:
        return "→"
    return "↑" if change.difference.estimate > 0 else "↓"


def period_text(report: Report) -> str:
    """One line naming what the report covers and what it is compared with."""
    text = report.selection.label
    if report.baseline is not None:
        text += f" (sammenlignet med {report.baseline.label})"
    return text
