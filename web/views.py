"""Turning plain results of surveys/ into what a template shows (words in the page's
language, nothing else)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from surveys.journey import DONT_KNOW, SKIP, CommentPrompt, Question
from surveys.questionnaire.text import fill_placeholders
from web.i18n import number_text


@dataclass(frozen=True)
class Choice:
    value: str
    words: str
    selected: bool
    secondary: bool  # "Ved ikke" and "Spring over", set apart from the scale


@dataclass(frozen=True)
class QuestionView:
    delivery_id: int
    index: int
    progress: str
    text: str
    choices: list[Choice]
    can_go_back: bool


@dataclass(frozen=True)
class CommentView:
    delivery_id: int
    index: int
    prompt: str
    warning: str
    max_length: int


def progress(gettext: Callable[[str], str], index: int, total: int, locale: str) -> str:
    """ "Spørgsmål 3 af 9", the same words as the chat."""
    return gettext("Spørgsmål {n} af {total}").format(
        n=number_text(index + 1, locale), total=number_text(total, locale)
    )


def question_view(question: Question, gettext: Callable[[str], str], locale: str) -> QuestionView:
    """One question: its text, each answer with words (a smiley only beside them)."""
    _ = gettext
    name = question.citizen_name or _(question.name_fallback)
    smileys = question.scale.smileys or [""] * len(question.scale.options)
    choices = [
        Choice(
            value=str(position),
            words=f"{smiley} {_(label)}".strip(),
            selected=question.selected == str(position),
            secondary=False,
        )
        for position, (label, smiley) in enumerate(
            zip(question.scale.options, smileys, strict=True), start=1
        )
    ]
    for value, words in ((DONT_KNOW, _("Ved ikke")), (SKIP, _("Spring over"))):
        choices.append(
            Choice(value=value, words=words, selected=question.selected == value, secondary=True)
        )
    return QuestionView(
        delivery_id=question.delivery_id,
        index=question.index,
        progress=progress(_, question.index, question.total, locale),
        text=fill_placeholders(_(question.text), name, locale),
        choices=choices,
        can_go_back=question.index > 0,
    )


def comment_view(prompt: CommentPrompt, gettext: Callable[[str], str]) -> CommentView:
    """The optional comment at the end, with its warning about names and health."""
    return CommentView(
        delivery_id=prompt.delivery_id,
        index=prompt.index,
        prompt=gettext(prompt.prompt),
        warning=gettext(prompt.warning),
        max_length=prompt.max_length,
    )
