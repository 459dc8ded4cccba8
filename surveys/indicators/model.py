"""What an indicator report is made of: plain, frozen values, no database, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from storage.enums import Audience, Channel, UnitKind
from surveys.indicators.stats import Difference, Interval
from surveys.questionnaire.schema import Survey

MIN_ANSWERS = 5
"""No figure is shown that is built on fewer valid answers (Statistics Denmark's rule)."""
MIN_INVITED = 10
"""No unit is shown unless at least this many were invited (LUP's rule)."""
MIN_COMMENT_ANSWERS = 10
"""No free-text comments are shown for a unit with fewer completed answers."""


class FigureKind(StrEnum):
    """What a figure measures."""

    ITEM = "item"
    """One question: share positive (top-2), top box, index, distribution."""
    THEME = "theme"
    """A theme, from each person's mean over the theme's questions."""
    TILS = "tils"
    """Share with a T-ILS sum of 7 or more (severe loneliness). Higher is worse."""
    NEGATIVE = "negative"
    """Share answering the worst option of a negative item (E1 "Ja, ofte"). Higher is worse."""
    RESPONSE = "response"
    """Response rate (AAPOR RR1) and break-offs."""


class Suppression(StrEnum):
    """Why a figure is hidden, if it is."""

    NONE = "none"
    FEW_ANSWERS = "few_answers"
    """Fewer than MIN_ANSWERS valid answers."""
    FEW_INVITED = "few_invited"
    """The unit had fewer than MIN_INVITED invited in this audience."""
    SECONDARY = "secondary"
    """Hidden so that a hidden figure cannot be worked out from the total."""


@dataclass(frozen=True, order=True)
class FigureKey:
    """One row of a table: a kind of figure for one audience and subject.

    ``subject`` is the item id (ITEM, NEGATIVE), the theme's value (THEME), or ""
    (TILS, RESPONSE). ``channel`` None is the figure over all channels; a channel, the
    same figure over the answers that came by it (and for RESPONSE, the deliveries
    completed by it).
    """

    audience: Audience
    kind: FigureKind
    subject: str = ""
    channel: Channel | None = None

    def in_channel(self, channel: Channel | None) -> FigureKey:
        """The same figure over one channel's answers (None: over all channels)."""
        return FigureKey(self.audience, self.kind, self.subject, channel)

    @property
    def higher_is_worse(self) -> bool:
        """True for the loneliness figures: a higher share is worse."""
        return self.kind in (FigureKind.TILS, FigureKind.NEGATIVE)


@dataclass(frozen=True)
class Share:
    """A proportion with its 95 % Wilson interval.

    ``n`` is the number of answers (people for themes and T-ILS); for the municipality
    it is the effective sample size of the weighted share, which is what the interval
    and a trend test use.
    """

    p: float
    n: float
    interval: Interval

    @property
    def x(self) -> float:
        """The (possibly fractional or weighted) count: ``p * n``."""
        return self.p * self.n


@dataclass(frozen=True)
class Values:
    """The numbers of one figure that passed suppression.

    ``n``: valid answers (ITEM, NEGATIVE), people with a score (THEME, TILS), or people
    invited (RESPONSE). ``share`` is the headline share: top-2 (ITEM, THEME), the
    loneliness share (TILS, NEGATIVE) or the response rate (RESPONSE). A channel's
    RESPONSE has no rate of its own (a person is invited once and may answer by either
    channel): its ``n`` is everyone completed, by any channel, and its ``share`` the
    share of them completed by this channel (``completed``). ``proxy
    counts answers (people, for THEME/TILS; completed responses, for RESPONSE) given by
    or with help from someone else; they are counted, never dropped.
    """

    n: int
    share: Share | None = None
    dont_know: int = 0
    skipped: int = 0
    proxy: int = 0
    top_box: float | None = None
    index: float | None = None
    mean: float | None = None
    """T-ILS: the mean sum (3-9)."""
    distribution: tuple[int, ...] = ()
    """ITEM: answers per option position (1..K), unweighted counts."""
    option_shares: tuple[float, ...] = ()
    """ITEM: share per option position (weighted by unit size for the municipality)."""
    completed: int = 0
    """RESPONSE: completed responses."""
    partial: int = 0
    """RESPONSE: break-offs (answered something, did not finish)."""


@dataclass(frozen=True)
class Change:
    """The change of the headline share against the baseline, with Newcombe's interval.

    ``significant`` only when the interval excludes 0 (both figures passed
    suppression, or there would be no Change at all).
    """

    previous: float
    difference: Difference
    significant: bool

    def better(self, higher_is_worse: bool) -> bool | None:
        """True/False for a significant improvement/worsening; None if not significant."""
        if not self.significant:
            return None
        up = self.difference.estimate > 0
        return up != higher_is_worse


@dataclass(frozen=True)
class Figure:
    """One figure for one unit, or for the whole municipality (``unit_id`` None).

    ``values`` is None exactly when ``suppression`` is not NONE: a hidden figure
    carries no numbers, so no export can leak one.
    """

    key: FigureKey
    unit_id: int | None
    suppression: Suppression
    values: Values | None
    change: Change | None = None

    @property
    def shown(self) -> bool:
        """True if the figure passed suppression."""
        return self.values is not None


@dataclass(frozen=True)
class Selection:
    """The rounds a report covers: one round, or a period's rounds of one survey version."""

    survey_version_id: int
    round_ids: tuple[int, ...]
    start: datetime
    end: datetime
    label: str
    """In Danish, for people: "Runde 12, 3. marts 2026" or "1. januar - 31. marts 2026"."""
    is_period: bool = False
    left_out: tuple[int, ...] = ()
    """Rounds in the period that used another survey version (not in the report)."""


@dataclass(frozen=True)
class UnitInfo:
    """A unit in the report. ``citizens`` (active citizens now) is its roll-up weight."""

    id: int
    name: str
    kind: UnitKind
    citizens: int


@dataclass(frozen=True)
class CommentRow:
    """A free-text comment of a unit that passed the comment rule; no names, no dates."""

    unit_id: int
    audience: Audience
    text: str


@dataclass(frozen=True)
class Report:
    """Every figure of a selection, after suppression, with trends and allowed comments.

    ``units`` are the units shown (all of them, or a staff member's own); suppression
    was decided over every unit in the selection, so a smaller view is never weaker.
    """

    selection: Selection
    survey: Survey
    units: tuple[UnitInfo, ...]
    figures: dict[tuple[FigureKey, int | None], Figure]
    keys: tuple[FigureKey, ...]
    comments: tuple[CommentRow, ...] = ()
    comments_included: bool = True
    # Rounds past the retention period: their comments were deleted with their answers,
    # and their figures come from their tallies alone.
    purged_rounds: tuple[int, ...] = ()
    baseline: Selection | None = None
    audiences: tuple[Audience, ...] = field(default=())
    channels: tuple[Channel, ...] = ()
    """The channels the figures are split by: every channel answers came by, when there
    were two; empty when every answer came by one channel (its split would repeat the
    figures for all channels). ``channels_used`` says which that was."""
    channels_used: tuple[Channel, ...] = ()
    """The channels any answer or completed delivery of the selection came by."""

    def figure(self, key: FigureKey, unit_id: int | None) -> Figure | None:
        """The figure of ``key`` for a unit (or the municipality, ``None``), if it applies."""
        return self.figures.get((key, unit_id))

    def keys_of(self, kind: FigureKind, audience: Audience | None = None) -> list[FigureKey]:
        """The keys of one kind (and audience), in report order."""
        return [
            k for k in self.keys if k.kind == kind and (audience is None or k.audience == audience)
        ]
