"""Turning plain results of surveys/ into Telegram texts and keyboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import AnswerCb, BackCb, BeginCb, FinishCb, InfoCb
from bot.config import Settings
from bot.i18n import date_text, number_text
from surveys.fieldwork.outbox import Kind, Outgoing
from surveys.journey import DONT_KNOW, SKIP, CommentPrompt, Question, Step
from surveys.journey.information import RightsWay, information
from surveys.questionnaire.text import fill_placeholders

CHECK = "✓ "


@dataclass(frozen=True)
class Screen:
    """A message to show: its HTML text and its buttons."""

    text: str
    markup: InlineKeyboardMarkup | None = None


def progress(index: int, total: int, locale: str) -> str:
    return _("Spørgsmål {n} af {total}").format(
        n=number_text(index + 1, locale), total=number_text(total, locale)
    )


def one_per_row(buttons: list[tuple[str, CallbackData]]) -> InlineKeyboardMarkup:
    """Buttons one per row, as the survey's screens show them. Built from aiogram's types
    directly: InlineKeyboardBuilder deep-copies every button on each call, which showed
    as a tenth of a press's CPU in the profile (issue 9)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data.pack())] for text, data in buttons
        ]
    )


def question_screen(question: Question, locale: str) -> Screen:
    """One question per message: progress, the question, one answer per row."""
    name = question.citizen_name or _(question.name_fallback)
    text = fill_placeholders(_(question.text), name, locale)
    buttons: list[tuple[str, CallbackData]] = []
    smileys = question.scale.smileys or [""] * len(question.scale.options)
    for position, (label, smiley) in enumerate(
        zip(question.scale.options, smileys, strict=True), start=1
    ):
        words = f"{smiley} {_(label)}".strip()
        mark = CHECK if question.selected == str(position) else ""
        buttons.append(
            (mark + words, AnswerCb(d=question.delivery_id, i=question.index, v=str(position)))
        )
    for choice, label in ((DONT_KNOW, _("Ved ikke")), (SKIP, _("Spring over"))):
        mark = CHECK if question.selected == choice else ""
        buttons.append((mark + label, AnswerCb(d=question.delivery_id, i=question.index, v=choice)))
    if question.index > 0:
        buttons.append((_("⬅️ Tilbage"), BackCb(d=question.delivery_id, i=question.index)))
    header = html.italic(progress(question.index, question.total, locale))
    return Screen(f"{header}\n\n{html.bold(html.quote(text))}", one_per_row(buttons))


def comment_screen(prompt: CommentPrompt) -> Screen:
    """The optional comment at the end, with the warning about names and health."""
    markup = one_per_row(
        [
            (_("Nej tak, afslut"), FinishCb(d=prompt.delivery_id, i=prompt.index)),
            (_("⬅️ Tilbage"), BackCb(d=prompt.delivery_id, i=prompt.index)),
        ]
    )
    text = "\n\n".join(
        (
            html.bold(html.quote(_(prompt.prompt))),
            html.quote(_(prompt.warning)),
            _(
                "Skriv din kommentar her i chatten (højst {n} tegn), eller tryk «Nej tak, afslut»."
            ).format(n=prompt.max_length),
        )
    )
    return Screen(text, markup)


def step_screen(step: Step, locale: str) -> Screen:
    if isinstance(step, Question):
        return question_screen(step, locale)
    return comment_screen(step)


def thanks_screen() -> Screen:
    return Screen(
        _(
            "Tak for dine svar! 🌷\n\n"
            "Dine svar hjælper kommunen med at gøre hjælpen og plejen bedre. "
            "Du hører fra os, næste gang der er et spørgeskema."
        )
    )


def information_screen(settings: Settings, locale: str) -> Screen:
    """What the person must know before the first question (GDPR art. 13)."""
    contact = settings.contact or _("din kommunes ældreområde")
    words = information(
        _,
        municipality=html.quote(settings.municipality),
        months=number_text(settings.retention_months, locale),
        contact=html.quote(contact),
        rights=RightsWay.CHAT,
    )
    points = "\n".join(f"• {point}" for point in words.points)
    text = f"{words.greeting}\n\n{points}\n\n{words.question}"
    other = "en" if locale == "da" else "da"
    markup = one_per_row(
        [
            (_("Ja, jeg vil gerne være med"), InfoCb(choice="yes")),
            (_("Nej tak"), InfoCb(choice="no")),
            ("🇬🇧 English" if other == "en" else "🇩🇰 Dansk", InfoCb(choice=other)),
        ]
    )
    return Screen(text, markup)


def outgoing_screen(message: Outgoing, settings: Settings, locale: str) -> Screen:
    """An invitation or a reminder. Both are generic on purpose, since notifications show
    them outside the chat; the button starts the survey, or resumes where the person
    stopped."""
    text, button = _outgoing_words(message.kind, message.closes_at, settings.municipality, locale)
    # The sender renders one of these per invitation, hundreds a second: the words are
    # the same for a whole round in one language, and one_per_row skips the builder's
    # copying.
    return Screen(text, one_per_row([(button, BeginCb(d=message.delivery_id))]))


@lru_cache(maxsize=256)
def _outgoing_words(
    kind: Kind, closes_at: datetime, municipality: str, locale: str
) -> tuple[str, str]:
    """The text and button of an invitation or reminder, in ``locale`` (called in that
    locale's i18n context, as every render is)."""
    if kind == Kind.REMINDER:
        text = _(
            "Husk spørgeskemaet fra {municipality}. Det tager kun et par minutter, "
            "og du kan fortsætte, hvor du slap. Du kan svare frem til {date}."
        )
        button = _("Fortsæt spørgeskemaet")
    else:
        text = _(
            "Der er et nyt spørgeskema til dig fra {municipality}. "
            "Det tager 2-3 minutter. Du kan svare frem til {date}."
        )
        button = _("Start spørgeskemaet")
    words = text.format(municipality=html.quote(municipality), date=date_text(closes_at, locale))
    return words, button
