"""From the database's small GROUP BY tables to a report: figures, roll-up, suppression,
trend. The statistical choices are written down in ``surveys/indicators/__init__.py``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import AnswerKind, Audience, Channel, UnitKind
from surveys.fieldwork import tallies
from surveys.fieldwork.definitions import load_version
from surveys.fieldwork.tallies import tallied_rounds
from surveys.indicators import sql
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
from surveys.indicators.selection import baseline_selection
from surveys.indicators.stats import Stratum, newcombe_difference, weighted_share, wilson_interval
from surveys.questionnaire.schema import Item, Scale, Survey, Theme
from surveys.questionnaire.scoring import (
    index_score,
    is_bottom_box,
    is_top2,
    is_top_box,
    severe_loneliness,
)

# ------------------------------------------------------------------ tallies per unit


@dataclass
class _Tally:
    """What one unit contributes to one figure, before any rule is applied."""

    n: int = 0
    dont_know: int = 0
    skipped: int = 0
    proxy: int = 0
    x: float = 0.0  # headline count (fractional for themes)
    top_sum: float = 0.0
    index_sum: float = 0.0
    mean_sum: float = 0.0
    distribution: list[int] = field(default_factory=list)
    completed: int = 0
    partial: int = 0

    @property
    def has_data(self) -> bool:
        return self.n + self.dont_know + self.skipped > 0


Cell = tuple[FigureKey, int]


@dataclass(frozen=True)
class _Scores:
    """What one answer (a value on an ordinal scale) adds to its item's figures."""

    top2: int
    bottom: int
    top: int
    index: float

    @classmethod
    def of(cls, scale: Scale, value: int) -> _Scores:
        return cls(
            int(bool(is_top2(scale, value))),
            int(bool(is_bottom_box(scale, value))),
            int(bool(is_top_box(scale, value))),
            index_score(scale, value) or 0.0,
        )


@dataclass
class _Raw:
    units: dict[int, UnitInfo]
    invited: dict[tuple[int, Audience], int]
    completed: dict[tuple[int, Audience], int]
    tallies: dict[Cell, _Tally]
    keys: list[FigureKey]
    applies: set[Cell]
    channels: tuple[Channel, ...] = ()
    """The channels the figures are split by (none unless answers came by two)."""
    channels_used: tuple[Channel, ...] = ()


def _ordinal_items(survey: Survey, theme: Theme, audience: Audience, kind: UnitKind) -> list[Item]:
    return [
        item
        for item in survey.items
        if item.theme == theme and survey.scale_of(item).ordinal and item.asked_of(audience, kind)
    ]


def _keys(survey: Survey, audiences: Iterable[Audience]) -> list[FigureKey]:
    keys: list[FigureKey] = []
    for audience in audiences:
        for theme in survey.themes:
            if any(
                i.theme == theme and audience in i.audience and survey.scale_of(i).ordinal
                for i in survey.items
            ):
                keys.append(FigureKey(audience, FigureKind.THEME, theme.value))
        if any(audience in item.audience for item in survey.tils_items):
            keys.append(FigureKey(audience, FigureKind.TILS))
        for item in survey.items:
            if item.negative and audience in item.audience:
                keys.append(FigureKey(audience, FigureKind.NEGATIVE, item.id))
        for item in survey.items:
            if audience in item.audience:
                keys.append(FigureKey(audience, FigureKind.ITEM, item.id))
        keys.append(FigureKey(audience, FigureKind.RESPONSE))
    return keys


def _applies(survey: Survey, key: FigureKey, kind: UnitKind | None) -> bool:
    if key.kind == FigureKind.RESPONSE or kind is None:
        return True
    if key.kind in (FigureKind.ITEM, FigureKind.NEGATIVE):
        return survey.item(key.subject).asked_of(key.audience, kind)
    if key.kind == FigureKind.TILS:
        return any(item.asked_of(key.audience, kind) for item in survey.tils_items)
    return bool(_ordinal_items(survey, Theme(key.subject), key.audience, kind))


async def _load(
    session: AsyncSession, survey: Survey, version_id: int, round_ids: tuple[int, ...]
) -> _Raw:
    units = {
        uid: UnitInfo(uid, name, kind, citizens)
        for uid, name, kind, citizens in await sql.units_of(session, round_ids)
    }
    tallies: dict[Cell, _Tally] = defaultdict(_Tally)
    invited: dict[tuple[int, Audience], int] = defaultdict(int)
    completed: dict[tuple[int, Audience], int] = defaultdict(int)

    tallied = await tallied_rounds(session, round_ids, version_id)
    deliveries = await sql.delivery_counts(session, round_ids, tallied)
    answers = await sql.answer_tables(session, survey, round_ids, tallied)
    used = set(answers.channels)
    for d in deliveries:
        audience = d.audience
        if d.status in sql.NOT_INVITED:
            continue
        tally = tallies[(FigureKey(audience, FigureKind.RESPONSE), d.unit_id)]
        tally.n += d.count
        invited[(d.unit_id, audience)] += d.count
        if d.status == sql.COMPLETED:
            tally.completed += d.count
            tally.x += d.count
            completed[(d.unit_id, audience)] += d.count
            if d.proxy:
                tally.proxy += d.count
            if d.channel is not None:
                used.add(d.channel)
                by = tallies[(FigureKey(audience, FigureKind.RESPONSE, "", d.channel), d.unit_id)]
                by.completed += d.count
                by.x += d.count
                if d.proxy:
                    by.proxy += d.count
        elif d.status == sql.STARTED or d.has_answers:
            tally.partial += d.count
    channels_used = tuple(c for c in Channel if c in used)
    channels = channels_used if len(channels_used) > 1 else ()
    # A channel's completed are a share of everyone completed: no invited of its own.
    for (uid, audience), done in completed.items():
        for channel in channels:
            tallies[(FigureKey(audience, FigureKind.RESPONSE, "", channel), uid)].n = done

    audiences = [a for a in survey.audiences if any(aud == a for _, aud in invited)]
    keys = _keys(survey, audiences)
    kinds = {uid: unit.kind for uid, unit in units.items()}
    applies_to = {
        (key, kind): _applies(survey, key, kind) for key in keys for kind in set(kinds.values())
    }
    applies = {
        (key.in_channel(channel), uid)
        for key in keys
        for uid, kind in kinds.items()
        if invited.get((uid, key.audience), 0) > 0 and applies_to[(key, kind)]
        for channel in (None, *channels)
    }

    # The scores of an answer depend only on its item and value: worked out once each.
    scored: dict[tuple[str, int], _Scores] = {}
    for c in answers.items:
        audience, where = c.audience, c.channel
        if where is not None and where not in channels:
            continue
        item = survey.items_by_id.get(c.item_id)
        if item is None:
            continue
        scale = survey.scale_of(item)
        cells = [FigureKey(audience, FigureKind.ITEM, item.id, where)]
        if item.negative:
            cells.append(FigureKey(audience, FigureKind.NEGATIVE, item.id, where))
        for key in cells:
            tally = tallies[(key, c.unit_id)]
            if not tally.distribution:
                tally.distribution = [0] * scale.size
            if c.kind == AnswerKind.DONT_KNOW:
                tally.dont_know += c.count
            elif c.kind == AnswerKind.SKIP:
                tally.skipped += c.count
            elif c.kind == AnswerKind.VALUE and c.value is not None and 1 <= c.value <= scale.size:
                tally.n += c.count
                tally.distribution[c.value - 1] += c.count
                if c.proxy:
                    tally.proxy += c.count
                if scale.ordinal:
                    scores = scored.get((item.id, c.value))
                    if scores is None:
                        scores = scored[(item.id, c.value)] = _Scores.of(scale, c.value)
                    headline = scores.bottom if key.kind == FigureKind.NEGATIVE else scores.top2
                    tally.x += c.count * headline
                    tally.top_sum += c.count * scores.top
                    tally.index_sum += c.count * scores.index

    # "Ved ikke" and skips of a theme or T-ILS: the answers to its items, never people.
    for (key, uid), tally in list(tallies.items()):
        if key.kind != FigureKind.ITEM:
            continue
        item = survey.item(key.subject)
        targets = []
        if survey.scale_of(item).ordinal:
            targets.append(FigureKey(key.audience, FigureKind.THEME, item.theme.value, key.channel))
        if item.tils:
            targets.append(FigureKey(key.audience, FigureKind.TILS, "", key.channel))
        for target in targets:
            tallies[(target, uid)].dont_know += tally.dont_know
            tallies[(target, uid)].skipped += tally.skipped

    asking: dict[tuple[str, Audience, UnitKind], int] = {}
    for g in answers.themes:
        audience, kind = g.audience, g.unit_kind
        if g.channel is not None and g.channel not in channels:
            continue
        asked = asking.get((g.theme, audience, kind))
        if asked is None:
            asked = asking[(g.theme, audience, kind)] = len(
                _ordinal_items(survey, Theme(g.theme), audience, kind)
            )
        # A person's theme score counts only if they answered at least half its items.
        if asked == 0 or 2 * g.answered < asked:
            continue
        tally = tallies[(FigureKey(audience, FigureKind.THEME, g.theme, g.channel), g.unit_id)]
        tally.n += g.people
        tally.x += g.top2_sum
        tally.top_sum += g.top_sum
        tally.index_sum += g.index_sum
        if g.proxy:
            tally.proxy += g.people

    needed = len(survey.tils_items)
    for t in answers.tils:
        audience = t.audience
        # Only people who answered all three items get a T-ILS sum.
        if t.answered != needed or (t.channel is not None and t.channel not in channels):
            continue
        tally = tallies[(FigureKey(audience, FigureKind.TILS, "", t.channel), t.unit_id)]
        tally.n += t.people
        tally.x += t.people * severe_loneliness(t.total)
        tally.mean_sum += t.people * t.total
        if t.proxy:
            tally.proxy += t.people

    return _Raw(
        units, dict(invited), dict(completed), dict(tallies), keys, applies, channels, channels_used
    )


# ------------------------------------------------------------------ values


def _share(x: float, n: float) -> Share | None:
    if n <= 0:
        return None
    x = min(max(x, 0.0), n)
    return Share(x / n, n, wilson_interval(x, n))


def _ordinal(survey: Survey, key: FigureKey) -> bool:
    if key.kind != FigureKind.ITEM:
        return True
    return survey.scale_of(key.subject).ordinal


def _unit_values(survey: Survey, key: FigureKey, t: _Tally) -> Values:
    if key.kind == FigureKind.RESPONSE:
        return Values(
            n=t.n,
            share=_share(t.completed, t.n),
            proxy=t.proxy,
            completed=t.completed,
            partial=t.partial,
        )
    n = t.n
    ordinal = _ordinal(survey, key)
    return Values(
        n=n,
        share=_share(t.x, n) if ordinal else None,
        dont_know=t.dont_know,
        skipped=t.skipped,
        proxy=t.proxy,
        top_box=t.top_sum / n
        if n and ordinal and key.kind in (FigureKind.ITEM, FigureKind.THEME)
        else None,
        index=t.index_sum / n
        if n and ordinal and key.kind in (FigureKind.ITEM, FigureKind.THEME)
        else None,
        mean=t.mean_sum / n if n and key.kind == FigureKind.TILS else None,
        distribution=tuple(t.distribution),
        option_shares=tuple(c / n for c in t.distribution) if n else (),
    )


def _weighted_mean(pairs: list[tuple[float, float]]) -> float | None:
    total = sum(w for w, _ in pairs)
    if total <= 0:
        return None
    return sum(w * v for w, v in pairs) / total


def _total_values(
    survey: Survey, key: FigureKey, parts: list[tuple[UnitInfo, _Tally, Values]]
) -> Values:
    """The municipality: units weighted by their number of citizens, not by respondents.

    The response rate is the exception: it describes the fieldwork, so it is plain
    completed / invited over all units.
    """
    if key.kind == FigureKind.RESPONSE:
        total = _Tally()
        for _, t, _ in parts:
            total.n += t.n
            total.completed += t.completed
            total.partial += t.partial
            total.proxy += t.proxy
        return _unit_values(survey, key, total)
    n = sum(t.n for _, t, _ in parts)
    answered = [(u, v) for u, _, v in parts if v.n > 0]
    share = None
    if answered and _ordinal(survey, key):
        p, n_eff = weighted_share(
            [Stratum(u.citizens, v.share.p, v.n) for u, v in answered if v.share is not None]
        )
        share = _share(p * n_eff, n_eff)

    def mean(attribute: str) -> float | None:
        pairs = [
            (float(u.citizens), value)
            for u, v in answered
            if (value := getattr(v, attribute)) is not None
        ]
        return _weighted_mean(pairs) if pairs else None

    size = max((len(t.distribution) for _, t, _ in parts), default=0)
    distribution = tuple(
        sum(t.distribution[i] for _, t, _ in parts if t.distribution) for i in range(size)
    )
    option_shares: tuple[float, ...] = ()
    if answered and size:
        option_shares = tuple(
            _weighted_mean([(float(u.citizens), v.option_shares[i]) for u, v in answered]) or 0.0
            for i in range(size)
        )
    return Values(
        n=n,
        share=share,
        dont_know=sum(t.dont_know for _, t, _ in parts),
        skipped=sum(t.skipped for _, t, _ in parts),
        proxy=sum(t.proxy for _, t, _ in parts),
        top_box=mean("top_box"),
        index=mean("index"),
        mean=mean("mean"),
        distribution=distribution,
        option_shares=option_shares,
    )


# ------------------------------------------------------------------ suppression


@dataclass
class _Built:
    figures: dict[tuple[FigureKey, int | None], Figure]
    contributors: dict[FigureKey, frozenset[int]]


def _build(survey: Survey, raw: _Raw) -> _Built:
    figures: dict[tuple[FigureKey, int | None], Figure] = {}
    contributors: dict[FigureKey, frozenset[int]] = {}
    total_invited: dict[Audience, int] = defaultdict(int)
    for (_, audience), count in raw.invited.items():
        total_invited[audience] += count

    values: dict[tuple[FigureKey, int | None], Values] = {}
    state: dict[tuple[FigureKey, int | None], Suppression] = {}
    built: list[FigureKey] = []
    sizes: dict[tuple[FigureKey, int], int] = {}  # answers per unit, to choose whom to hide
    keys = [key.in_channel(channel) for key in raw.keys for channel in (None, *raw.channels)]
    for key in keys:
        unit_ids = [uid for uid in raw.units if (key, uid) in raw.applies]
        if not unit_ids:
            continue
        parts: list[tuple[UnitInfo, _Tally, Values]] = []
        for uid in unit_ids:
            tally = raw.tallies.get((key, uid), _Tally())
            values[(key, uid)] = _unit_values(survey, key, tally)
            state[(key, uid)] = _primary(key, raw.invited.get((uid, key.audience), 0), tally.n)
            sizes[(key, uid)] = tally.n
            unit = raw.units[uid]
            # A unit is in the municipality's figure if it has a weight and any data.
            if (key.kind == FigureKind.RESPONSE and tally.n > 0) or (
                key.kind != FigureKind.RESPONSE and unit.citizens > 0 and tally.has_data
            ):
                parts.append((unit, tally, values[(key, uid)]))
        contributors[key] = frozenset(u.id for u, _, _ in parts)
        total = values[(key, None)] = _total_values(survey, key, parts)
        state[(key, None)] = _primary(key, total_invited[key.audience], total.n)
        built.append(key)

    # Secondary suppression, repeated until nothing changes, since hiding one cell can
    # expose another: (1) with exactly one hidden unit in a municipality figure, the total
    # and the shown units would give it away: hide the shown unit with the fewest answers
    # too, or the total when there is no other unit to hide; (2) a channel's cell next to
    # a hidden figure for all channels, or next to the other channel's hidden cell, would
    # give that away by subtraction: hide it too. Only ever hides more, so it ends.
    changed = True
    while changed:
        changed = False
        for key in built:
            members = contributors[key]
            hidden = [uid for uid in members if state[(key, uid)] != Suppression.NONE]
            if len(hidden) != 1 or state[(key, None)] != Suppression.NONE:
                continue
            shown = [uid for uid in members if state[(key, uid)] == Suppression.NONE]
            if shown:
                victim = min(shown, key=lambda uid: (sizes[(key, uid)], uid))
                state[(key, victim)] = Suppression.SECONDARY
            else:
                state[(key, None)] = Suppression.SECONDARY
            changed = True
        places: list[int | None] = [*raw.units, None]
        for key in raw.keys if raw.channels else ():
            for place in places:
                if (key, place) not in state:
                    continue
                cells = [
                    (key.in_channel(channel), place)
                    for channel in raw.channels
                    if (key.in_channel(channel), place) in state
                ]
                # A channel with no answers here has nothing to protect or give away.
                filled = [c for c in cells if _has_data(raw, c)]
                whole_hidden = state[(key, place)] != Suppression.NONE
                if not whole_hidden and all(state[c] == Suppression.NONE for c in filled):
                    continue
                for cell in filled:
                    if state[cell] == Suppression.NONE:
                        state[cell] = Suppression.SECONDARY
                        changed = True

    for cell, why in state.items():
        figures[cell] = Figure(*cell, why, values[cell] if why == Suppression.NONE else None)
    return _Built(figures, contributors)


def _has_data(raw: _Raw, cell: tuple[FigureKey, int | None]) -> bool:
    """Whether a unit's (or, for None, any unit's) figure has any answer or completion."""
    key, uid = cell
    if uid is not None:
        tally = raw.tallies.get((key, uid))
        if tally is None:
            return False
        return tally.completed > 0 if key.kind == FigureKind.RESPONSE else tally.has_data
    return any(_has_data(raw, (key, u)) for u in raw.units if (key, u) in raw.applies)


def _primary(key: FigureKey, invited: int, n: int) -> Suppression:
    if invited < MIN_INVITED:
        return Suppression.FEW_INVITED
    if key.kind != FigureKind.RESPONSE and n < MIN_ANSWERS:
        return Suppression.FEW_ANSWERS
    return Suppression.NONE


# ------------------------------------------------------------------ trend


def _with_trends(current: _Built, baseline: _Built) -> dict[tuple[FigureKey, int | None], Figure]:
    """Attach the change of the headline share where both figures were shown."""
    result = dict(current.figures)
    for cell, figure in current.figures.items():
        key, unit_id = cell
        if key.kind == FigureKind.RESPONSE or figure.values is None:
            continue
        before = baseline.figures.get(cell)
        if before is None or before.values is None:
            continue
        now_share, then_share = figure.values.share, before.values.share
        if now_share is None or then_share is None:
            continue
        # A municipality figure is compared only with one built from the same units.
        if unit_id is None and current.contributors.get(key) != baseline.contributors.get(key):
            continue
        difference = newcombe_difference(now_share.x, now_share.n, then_share.x, then_share.n)
        result[cell] = replace(
            figure,
            change=Change(then_share.p, difference, difference.interval.excludes_zero()),
        )
    return result


# ------------------------------------------------------------------ the report


async def compute_report(
    session: AsyncSession,
    selection: Selection,
    *,
    unit_ids: Collection[int] | None = None,
    comments: bool = True,
    trend: bool = True,
) -> Report:
    """Every indicator of ``selection``, suppressed, with trend and allowed comments.

    ``unit_ids`` limits the units shown (a staff member's own); the municipality's
    figures and every suppression decision still cover all units. ``comments=False``
    leaves the free-text comments out (staff see none).
    """
    survey = await load_version(session, selection.survey_version_id)
    version = selection.survey_version_id
    raw = await _load(session, survey, version, selection.round_ids)
    built = _build(survey, raw)
    figures = built.figures
    baseline = await baseline_selection(session, selection) if trend else None
    if baseline is not None:
        base_raw = await _load(session, survey, version, baseline.round_ids)
        figures = _with_trends(built, _build(survey, base_raw))

    comment_rows: list[CommentRow] = []
    if comments:
        groups = {
            (uid, audience)
            for (uid, audience), done in raw.completed.items()
            if done >= MIN_COMMENT_ANSWERS and raw.invited.get((uid, audience), 0) >= MIN_INVITED
        }
        comment_rows = [
            CommentRow(uid, audience, text)
            for uid, audience, text in await sql.comments_of(session, selection.round_ids, groups)
        ]
    audiences = tuple(dict.fromkeys(key.audience for key in raw.keys))
    report = Report(
        selection=selection,
        survey=survey,
        units=tuple(raw.units.values()),
        figures=figures,
        keys=tuple(key for key in raw.keys if (key, None) in figures),
        comments=tuple(comment_rows),
        comments_included=comments,
        purged_rounds=await tallies.purged_rounds(session, selection.round_ids),
        baseline=baseline,
        audiences=audiences,
        channels=raw.channels,
        channels_used=raw.channels_used,
    )
    return restrict(report, unit_ids) if unit_ids is not None else report


def restrict(report: Report, unit_ids: Collection[int]) -> Report:
    """The same report showing only ``unit_ids`` (and the municipality)."""
    wanted = set(unit_ids)
    return replace(
        report,
        units=tuple(u for u in report.units if u.id in wanted),
        figures={
            cell: f for cell, f in report.figures.items() if cell[1] is None or cell[1] in wanted
        },
        comments=tuple(c for c in report.comments if c.unit_id in wanted),
    )
