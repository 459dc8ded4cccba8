"""Quality indicators per item, theme, unit, municipality, audience and round.

Computed in the database (GROUP BY, see ``sql.py``), assembled and suppressed in
``compute.py``; no Telegram anywhere. The rules are domain.md's sections Indicators and
"Anonymity and small numbers". Where those are silent, these are the choices made:

- n counts valid answers only ("Ved ikke" and "Spring over" are counted apart and
  never in a denominator). Answers of people who broke off count for the questions
  they answered.
- Theme: a person's score is the mean of their index scores over the theme's ordinal
  questions that were put to them (audience and unit kind), counted only if they gave
  valid answers to at least half of those; the theme index is the mean over people.
  The theme's share positive (and top box) is built the same way, from each person's
  share of top-2 (top-box) answers, so a person weighs the same whatever they skipped.
  Its Wilson interval uses n = people; as each person's share lies in [0, 1], its
  variance is at most p(1-p), so the interval is, if anything, too wide.
- Nominal questions (who answers, H1; how many staff, K1) get a distribution, no
  share, index or theme.
- Loneliness: the T-ILS share (sum >= 7, only people who answered all three) and the
  share answering the worst option of a negative question (E1 "Ja, ofte") are
  negative indicators; ``FigureKey.higher_is_worse`` says so and every export shows it.
- Response rate (AAPOR RR1): completed / invited, where invited is every delivery of
  the round (pending, sent, failed and withdrawn included); a delivery cancelled
  before its invitation went out (the citizen moved or died) was never eligible and is
  left out. Partial = answered something or started, but did not finish. No trend.
- Proxy: answers (people, for themes and T-ILS) from a response flagged as given with
  help are counted apart, never dropped.
- Municipality: units weighted by their number of active citizens now (the
  ``citizens`` table), for citizens' and relatives' figures alike, over the units that
  have answers; a unit without active citizens left is not in the roll-up. Its
  interval is Wilson's at the effective sample size of the weighted share
  (Korn & Graubard 1998). Counts (n, "Ved ikke", proxy) are plain sums.
- Suppression, per audience (citizens and relatives are separate surveys): a unit
  with fewer than 10 invited in that audience shows no figure at all; any figure on
  fewer than 5 valid answers (people, for themes and T-ILS) is hidden, the
  municipality's too. Secondary: when exactly one unit of a municipality figure is
  hidden, the shown unit with the fewest answers is hidden too (or, with none left,
  the municipality figure), so subtracting cannot reveal it. A hidden figure carries
  no numbers at all (``Figure.values`` is None), and a smaller view (staff's units)
  keeps the decisions made over all units.
- Comments: only for a unit and audience with at least 10 completed answers, and only
  for coordinators; sorted by text, never by time; no dates.
- Trend: against the newest earlier round of the same survey version that covered
  one of the same units (for a period: the same version's rounds in the equally long
  period before). Change of the headline share with Newcombe's hybrid score
  interval; shown only where both figures passed suppression (a change next to a
  hidden figure would reveal it), called significant only where the interval
  excludes 0. The municipality's change only when both roll-ups cover the same units.
- A period pools every delivery of its rounds of one survey version; a person asked
  in two of those rounds counts twice.
- Channels (Telegram, web): when the answers of a report came by both, every figure is
  also built per channel (``FigureKey.channel``; ``Report.keys`` holds the figures for
  all channels, ``Report.channels`` the channels split by). Each answer counts in the
  channel it came by; a person's theme score and T-ILS sum in a channel use only their
  answers in that channel (the half-the-items and all-three rules applied there), so a
  person who used both can count in both. A channel's RESPONSE has no rate: a person is
  invited once and may answer by either channel, so its ``n`` is everyone completed and
  its share those completed by that channel (a delivery's channel is the one it was
  completed by). Suppression applies to each channel's figures as to the others, and
  more: a channel's figure is hidden (secondary) when the figure for all channels is
  hidden or another channel's figure with answers is, and the rules are applied again
  until nothing changes. A channel without answers in a cell has nothing to protect.
"""

from surveys.indicators.compute import compute_report, restrict
from surveys.indicators.model import (
    MIN_ANSWERS,
    MIN_COMMENT_ANSWERS,
    MIN_INVITED,
    Change,
    CommentRow,
    Figure,
    FigureKey,
    FigureKind,
    Report,
    Selection,
    Share,
    Suppression,
    UnitInfo,
    Values,
)
from surveys.indicators.selection import baseline_selection, period_selection, round_selection

__all__ = [
    "MIN_ANSWERS",
    "MIN_COMMENT_ANSWERS",
    "MIN_INVITED",
    "Change",
    "CommentRow",
    "Figure",
    "FigureKey",
    "FigureKind",
    "Report",
    "Selection",
    "Share",
    "Suppression",
    "UnitInfo",
    "Values",
    "baseline_selection",
    "compute_report",
    "period_selection",
    "restrict",
    "round_selection",
]
