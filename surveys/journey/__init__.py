"""The respondent's journey: onboarding, one question at a time, the comment, the end.

Every step reads and writes the database only, so any process (the bot, the web pages)
can take any update or request and a restart loses nothing. Results are plain data
(``results``); the edges turn them into messages or pages. Imports fieldwork, registry,
questionnaire and storage; never an edge.
"""

from surveys.journey.answering import (
    answer,
    begin,
    comment_text,
    finish,
    go_back,
    next_step,
    open_delivery,
    step_of,
)
from surveys.journey.onboarding import (
    accept_information,
    decline,
    find_account,
    language_before_joining,
    open_invite,
    remember_language,
    resume,
    set_locale,
    stop,
)
from surveys.journey.results import (
    DONT_KNOW,
    SKIP,
    CommentPrompt,
    Finished,
    InviteOutcome,
    InviteResult,
    Outcome,
    Question,
    Refusal,
    Step,
)

__all__ = [
    "DONT_KNOW",
    "SKIP",
    "CommentPrompt",
    "Finished",
    "InviteOutcome",
    "InviteResult",
    "Outcome",
    "Question",
    "Refusal",
    "Step",
    "accept_information",
    "answer",
    "begin",
    "comment_text",
    "decline",
    "find_account",
    "finish",
    "go_back",
    "language_before_joining",
    "next_step",
    "open_delivery",
    "open_invite",
    "remember_language",
    "resume",
    "set_locale",
    "step_of",
    "stop",
]
