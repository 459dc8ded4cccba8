"""What a step of the journey returns: plain data the edges turn into messages or pages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from storage.models import (
    TelegramAccount,
)
from surveys.questionnaire.schema import Item, Scale

log = logging.getLogger(__name__)

DONT_KNOW = "x"
SKIP = "s"


# ---------------------------------------------------------------- plain results


@dataclass(frozen=True)
class Question:
    """One question to show: Danish source texts, translated by the caller."""

    delivery_id: int
    index: int
    total: int
    item: Item
    scale: Scale
    text: str
    citizen_name: str | None
    name_fallback: str
    selected: str | None  # the stored answer, when going back to an answered question


@dataclass(frozen=True)
class CommentPrompt:
    delivery_id: int
    index: int
    total: int
    prompt: str
    warning: str
    max_length: int


Step = Question | CommentPrompt


@dataclass(frozen=True)
class Finished:
    """The survey is done; ``next_step`` is another open survey for the same person.

    ``delivery_id`` is None when an anonymous round no longer knows which delivery was
    theirs (the web pages asking later whether the person has finished)."""

    delivery_id: int | None
    next_step: Step | None


class Refusal(StrEnum):
    NOT_YOURS = "not_yours"  # a forged or foreign button
    CLOSED = "closed"  # the round closed, or the delivery was withdrawn
    FINISHED = "finished"  # already completed
    STALE = "stale"  # a button of a question that is no longer the current one
    INVALID = "invalid"  # an answer value the item does not have
    TOO_LONG = "too_long"  # a comment over the limit
    NOTHING_OPEN = "nothing_open"


@dataclass(frozen=True)
class Outcome:
    """What a press or a message led to: the next thing to show, or a refusal."""

    shown: Step | Finished | None = None
    refusal: Refusal | None = None


class InviteOutcome(StrEnum):
    THROTTLED = "throttled"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    CITIZEN_DIED = "citizen_died"  # the link is about a citizen who has died
    CITIZEN_MOVED = "citizen_moved"  # ... who has moved out
    RESPONDENT = "respondent"
    STAFF = "staff"


@dataclass(frozen=True)
class InviteResult:
    outcome: InviteOutcome
    account: TelegramAccount | None = None
    needs_information: bool = False
    unit_name: str | None = None
    role: str | None = None
    citizen_name: str | None = None  # the first name, for a link of a citizen who left
