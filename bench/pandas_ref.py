"""The reference for the indicator benchmark: the same figures, computed with pandas
from flat CSV files of the answers, as an analyst would without Pejling.

It follows the rules written down in ``surveys/indicators/__init__.py``: valid answers
only in a denominator, top-2 share with Wilson's interval, top box and 0-100 index,
theme scores per person (at least half the theme's questions answered), T-ILS sums of
people who answered all three, the response rate (AAPOR RR1), units weighted by their
citizens in the municipality's figure with its effective sample size, primary and
secondary suppression, and the change against a baseline with Newcombe's interval.
Per-answer scores come from the same ``surveys.questionnaire.scoring`` functions, turned into lookup
arrays, so the two sides share the rules but not the machinery.

``python -m bench.pandas_ref FOLDER UNITS.csv --format csv|xlsx -o FILE`` computes and
writes the figures: the export reference, run as a process of its own for its peak RSS.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from surveys.indicators.stats import Stratum, newcombe_difference, weighted_share, wilson_interval
from surveys.questionnaire.schema import Survey
from surveys.questionnaire.scoring import (
    SEVERE_LONELINESS_CUTOFF,
    index_score,
    is_bottom_box,
    is_top2,
    is_top_box,
    tils_score,
)

ITEM, THEME, TILS, NEGATIVE, RESPONSE = "item", "theme", "tils", "negative", "response"
MUNICIPALITY = 0  # the unit_id of the municipality's row (units start at 1)
MIN_ANSWERS, MIN_INVITED = 5, 10
Z = 1.96
SLOTS = 8  # answer positions per item in the lookup arrays (scales have at most 7)
KEY = ["audience", "kind", "subject"]
CELL = [*KEY, "unit_id"]

ANSWER_TYPES = {
    "round_id": "int32",
    "delivery_id": "int64",
    "unit_id": "int32",
    "unit_kind": "category",
    "audience": "category",
    "status": "category",
    "proxy": "int8",
    "item_id": "category",
    "kind": "category",
    "value": "float64",
}
DELIVERY_TYPES = {k: v for k, v in ANSWER_TYPES.items() if k not in ("item_id", "kind", "value")}


@dataclass(frozen=True)
class Rules:
    """The survey as arrays: per item position and per (item, answer position)."""

    survey: Survey
    position: dict[str, int]
    ordinal: np.ndarray[Any, Any]
    tils: np.ndarray[Any, Any]
    theme: list[str]
    top2: np.ndarray[Any, Any]
    top: np.ndarray[Any, Any]
    bottom: np.ndarray[Any, Any]
    index: np.ndarray[Any, Any]
    tils_score: np.ndarray[Any, Any]
    size: np.ndarray[Any, Any]

    @classmethod
    def of(cls, survey: Survey) -> Rules:
        items = survey.items
        count = len(items)
        arrays = {name: np.full(count * SLOTS, np.nan) for name in ("top2", "top", "bot", "idx")}
        tils = np.full(count * SLOTS, np.nan)
        for i, item in enumerate(items):
            scale = survey.scale_of(item)
            for value in range(1, scale.size + 1):
                at = i * SLOTS + value
                for name, fn in (
                    ("top2", is_top2),
                    ("top", is_top_box),
                    ("bot", is_bottom_box),
                    ("idx", index_score),
                ):
                    result = fn(scale, value)
                    arrays[name][at] = np.nan if result is None else float(result)
                if item.tils:
                    tils[at] = tils_score(scale, value)
        return cls(
            survey=survey,
            position={item.id: i for i, item in enumerate(items)},
            ordinal=np.array([survey.scale_of(item).ordinal for item in items]),
            tils=np.array([item.tils for item in items]),
            theme=[item.theme.value for item in items],
            top2=arrays["top2"],
            top=arrays["top"],
            bottom=arrays["bot"],
            index=arrays["idx"],
            tils_score=tils,
            size=np.array([survey.scale_of(item).size for item in items]),
        )

    def asked(self, theme: str, audience: str, kind: str) -> int:
        return sum(
            1
            for item in self.survey.items
            if item.theme.value == theme
            and self.survey.scale_of(item).ordinal
            and item.asked_of(audience, kind)
        )

    def keys(self, audiences: list[str]) -> list[tuple[str, str, str]]:
        """The figures, in the order Pejling's report lists them."""
        survey = self.survey
        keys: list[tuple[str, str, str]] = []
        for audience in audiences:
            for theme in survey.themes:
                if any(
                    i.theme == theme and audience in i.audience and survey.scale_of(i).ordinal
                    for i in survey.items
                ):
                    keys.append((audience, THEME, theme.value))
            if any(audience in item.audience for item in survey.tils_items):
                keys.append((audience, TILS, ""))
            keys += [
                (audience, NEGATIVE, i.id)
                for i in survey.items
                if i.negative and audience in i.audience
            ]
            keys += [(audience, ITEM, i.id) for i in survey.items if audience in i.audience]
            keys.append((audience, RESPONSE, ""))
        return keys

    def applies(self, key: tuple[str, str, str], unit_kind: str) -> bool:
        audience, kind, subject = key
        if kind == RESPONSE:
            return True
        if kind in (ITEM, NEGATIVE):
            return self.survey.item(subject).asked_of(audience, unit_kind)
        if kind == TILS:
            return any(item.asked_of(audience, unit_kind) for item in self.survey.tils_items)
        return self.asked(subject, audience, unit_kind) > 0


def read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flat answers and the deliveries of a selection."""
    answers = pd.read_csv(folder / "answers.csv", dtype=ANSWER_TYPES)
    deliveries = pd.read_csv(folder / "deliveries.csv", dtype=DELIVERY_TYPES)
    return answers, deliveries


def read_units(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"unit_id": "int32", "citizens": "int64"}).set_index("unit_id")


# ------------------------------------------------------------------ tallies per unit


def _scored(answers: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Each answer with its item position, validity and scores (NaN where none)."""
    categories = answers["item_id"].cat.categories
    lookup = np.array([rules.position.get(str(c), -1) for c in categories])
    position = lookup[answers["item_id"].cat.codes.to_numpy()]
    value = answers["value"].fillna(0).to_numpy().astype(np.int64)
    known = position >= 0
    size = np.where(known, rules.size[np.maximum(position, 0)], 0)
    valid = (answers["kind"] == "value").to_numpy() & known & (value >= 1) & (value <= size)
    at = np.where(valid, np.maximum(position, 0) * SLOTS + value, 0)
    frame = pd.DataFrame(
        {
            "delivery_id": answers["delivery_id"].to_numpy(),
            "unit_id": answers["unit_id"].to_numpy(),
            "audience": answers["audience"].astype(str).to_numpy(),
            "item_id": answers["item_id"].astype(str).to_numpy(),
            "position": position,
            "value": np.where(valid, value, 0),
            "valid": valid,
            "dont_know": (answers["kind"] == "dont_know").to_numpy() & known,
            "skipped": (answers["kind"] == "skip").to_numpy() & known,
            "proxy": answers["proxy"].to_numpy().astype(bool),
        }
    )
    for name, table in (
        ("top2", rules.top2),
        ("top", rules.top),
        ("bottom", rules.bottom),
        ("index", rules.index),
        ("tils", rules.tils_score),
    ):
        frame[name] = np.where(valid, table[at], np.nan)
    return frame


def _item_tallies(scored: pd.DataFrame) -> pd.DataFrame:
    valid = scored["valid"]
    parts = pd.DataFrame(
        {
            "unit_id": scored["unit_id"],
            "audience": scored["audience"],
            "subject": scored["item_id"],
            "n": valid.astype(np.int64),
            "dont_know": scored["dont_know"].astype(np.int64),
            "skipped": scored["skipped"].astype(np.int64),
            "proxy": (valid & scored["proxy"]).astype(np.int64),
            "x": scored["top2"].fillna(0.0),
            "bottom": scored["bottom"].fillna(0.0),
            "top_sum": scored["top"].fillna(0.0),
            "index_sum": scored["index"].fillna(0.0),
        }
    )
    for slot in range(1, SLOTS):
        parts[f"d{slot}"] = (scored["value"] == slot).astype(np.int64)
    return parts.groupby(["unit_id", "audience", "subject"], sort=False).sum().reset_index()


def _person_attributes(deliveries: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_id": deliveries["unit_id"].to_numpy(),
            "audience": deliveries["audience"].astype(str).to_numpy(),
            "unit_kind": deliveries["unit_kind"].astype(str).to_numpy(),
            "proxy": deliveries["proxy"].to_numpy().astype(bool),
        },
        index=deliveries["delivery_id"].to_numpy(),
    )


def _theme_tallies(scored: pd.DataFrame, people: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    ordinal = scored["valid"].to_numpy() & rules.ordinal[np.maximum(scored["position"], 0)]
    part = scored.loc[ordinal, ["delivery_id", "position", "index", "top2", "top"]]
    part = part.assign(theme=np.array(rules.theme)[part["position"].to_numpy()])
    per = part.groupby(["delivery_id", "theme"], sort=False).agg(
        answered=("index", "size"), s=("index", "sum"), t2=("top2", "sum"), tb=("top", "sum")
    )
    per = per.reset_index().join(people, on="delivery_id")
    asked_table = pd.DataFrame(
        [
            (t, a, k, rules.asked(t, a, k))
            for t in set(rules.theme)
            for a in ("citizen", "relative")
            for k in ("care_home", "home_care")
        ],
        columns=["theme", "audience", "unit_kind", "asked"],
    )
    per = per.merge(asked_table, on=["theme", "audience", "unit_kind"], how="left")
    asked = per["asked"].fillna(0).to_numpy()
    per = per[(asked > 0) & (2 * per["answered"].to_numpy() >= asked)]
    per = per.assign(
        x=per["t2"] / per["answered"],
        top_sum=per["tb"] / per["answered"],
        index_sum=per["s"] / per["answered"],
        people=1,
        proxy_people=per["proxy"].astype(np.int64),
    )
    out = (
        per.groupby(["unit_id", "audience", "theme"], sort=False)[
            ["people", "x", "top_sum", "index_sum", "proxy_people"]
        ]
        .sum()
        .reset_index()
    )
    renamed: pd.DataFrame = out.rename(
        columns={"theme": "subject", "people": "n", "proxy_people": "proxy"}
    )
    return renamed


def _tils_tallies(scored: pd.DataFrame, people: pd.DataFrame, needed: int) -> pd.DataFrame:
    part = scored.loc[scored["tils"].notna(), ["delivery_id", "tils"]]
    per = part.groupby("delivery_id", sort=False)["tils"].agg(["size", "sum"])
    per = per[per["size"] == needed].join(people)
    # severe_loneliness(sum), vectorised: a sum of 7 or more.
    severe = (per["sum"].to_numpy() >= SEVERE_LONELINESS_CUTOFF).astype(float)
    per = per.assign(n=1, x=severe, mean_sum=per["sum"], proxy_people=per["proxy"].astype(np.int64))
    out = (
        per.groupby(["unit_id", "audience"], sort=False)[["n", "x", "mean_sum", "proxy_people"]]
        .sum()
        .reset_index()
    )
    return out.assign(subject="").rename(columns={"proxy_people": "proxy"})


def _response_tallies(deliveries: pd.DataFrame, answered: np.ndarray[Any, Any]) -> pd.DataFrame:
    invited = deliveries[deliveries["status"] != "cancelled"]
    completed = (invited["status"] == "completed").to_numpy()
    has_answers = np.isin(invited["delivery_id"].to_numpy(), answered)
    started = (invited["status"] == "started").to_numpy()
    frame = pd.DataFrame(
        {
            "unit_id": invited["unit_id"].to_numpy(),
            "audience": invited["audience"].astype(str).to_numpy(),
            "n": 1,
            "completed": completed.astype(np.int64),
            "partial": (~completed & (started | has_answers)).astype(np.int64),
            "proxy": (completed & invited["proxy"].to_numpy().astype(bool)).astype(np.int64),
        }
    )
    out = frame.groupby(["unit_id", "audience"], sort=False).sum().reset_index()
    return out.assign(subject="", x=out["completed"].astype(float))


def tallies(
    answers: pd.DataFrame, deliveries: pd.DataFrame, rules: Rules
) -> tuple[pd.DataFrame, dict[tuple[int, str], int]]:
    """Raw tallies per (audience, kind, subject, unit), and the invited per (unit, audience)."""
    scored = _scored(answers, rules)
    people = _person_attributes(deliveries)
    items = _item_tallies(scored)
    negative_ids = {i.id for i in rules.survey.items if i.negative}
    negative = items[items["subject"].isin(negative_ids)].assign(x=lambda f: f["bottom"])
    themes = _theme_tallies(scored, people, rules)
    tils = _tils_tallies(scored, people, len(rules.survey.tils_items))
    response = _response_tallies(deliveries, scored["delivery_id"].unique())

    # "Ved ikke" and skips of a theme or T-ILS: the answers to its items, never people.
    survey = rules.survey
    theme_of = {i.id: i.theme.value for i in survey.items if survey.scale_of(i).ordinal}
    tils_ids = {i.id for i in survey.tils_items}
    missing = items[["unit_id", "audience", "subject", "dont_know", "skipped"]]
    theme_missing = (
        missing[missing["subject"].isin(theme_of)]
        .assign(subject=lambda f: f["subject"].map(theme_of))
        .groupby(["unit_id", "audience", "subject"], sort=False)[["dont_know", "skipped"]]
        .sum()
    )
    themes = themes.set_index(["unit_id", "audience", "subject"])
    themes = themes.join(theme_missing, how="outer").fillna(0).reset_index()
    tils_missing = (
        missing[missing["subject"].isin(tils_ids)]
        .groupby(["unit_id", "audience"], sort=False)[["dont_know", "skipped"]]
        .sum()
        .reset_index()
        .assign(subject="")
    )
    tils = (
        tils.set_index(["unit_id", "audience", "subject"])
        .join(tils_missing.set_index(["unit_id", "audience", "subject"]), how="outer")
        .fillna(0)
        .reset_index()
    )
    frames = [
        items.drop(columns=["bottom"]).assign(kind=ITEM),
        negative.drop(columns=["bottom"]).assign(kind=NEGATIVE),
        themes.assign(kind=THEME),
        tils.assign(kind=TILS),
        response.assign(kind=RESPONSE),
    ]
    merged = pd.concat(frames, ignore_index=True).fillna(0)
    invited = {
        (int(u), str(a)): int(n)
        for u, a, n in zip(response["unit_id"], response["audience"], response["n"], strict=True)
    }
    return merged, invited


# ------------------------------------------------------------------ figures


def _wilson(x: np.ndarray[Any, Any], n: np.ndarray[Any, Any]) -> tuple[Any, Any]:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2 = Z * Z
        denominator = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denominator
        half = Z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
        low = np.where(x == 0, 0.0, np.maximum(0.0, centre - half))
        high = np.where(x == n, 1.0, np.minimum(1.0, centre + half))
    return low, high


def figures(
    answers: pd.DataFrame, deliveries: pd.DataFrame, units: pd.DataFrame, rules: Rules
) -> pd.DataFrame:
    """Every figure of the selection, one row per (audience, kind, subject, unit), the
    municipality as unit 0; hidden figures keep only their suppression."""
    raw, invited = tallies(answers, deliveries, rules)
    audiences = [a.value for a in rules.survey.audiences if any(a.value == k[1] for k in invited)]
    keys = rules.keys(audiences)
    cells = pd.DataFrame(
        [
            (*key, int(unit_id))
            for key in keys
            for unit_id, kind in zip(units.index, units["kind"], strict=True)
            if invited.get((int(unit_id), key[0]), 0) > 0 and rules.applies(key, str(kind))
        ],
        columns=CELL,
    )
    table = cells.merge(raw, on=CELL, how="left").fillna(0)
    table["citizens"] = units["citizens"].reindex(table["unit_id"]).to_numpy()
    table["invited"] = [
        invited.get((u, a), 0) for u, a in zip(table["unit_id"], table["audience"], strict=True)
    ]
    ordinal = np.array(
        [
            k != ITEM or bool(rules.ordinal[rules.position[s]])
            for k, s in zip(table["kind"], table["subject"], strict=True)
        ]
    )
    table = _values(table, ordinal)
    few = np.where(
        table["invited"] < MIN_INVITED,
        "few_invited",
        np.where((table["kind"] != RESPONSE) & (table["n"] < MIN_ANSWERS), "few_answers", "none"),
    )
    table["suppression"] = few
    has_data = (table["n"] + table["dont_know"] + table["skipped"]) > 0
    table["member"] = np.where(
        table["kind"] == RESPONSE, table["n"] > 0, (table["citizens"] > 0) & has_data
    )
    total_invited: dict[str, int] = {}
    for (_, audience), count in invited.items():
        total_invited[audience] = total_invited.get(audience, 0) + count

    totals = []
    for key, group in table.groupby(KEY, sort=False):
        totals.append(_municipality(tuple(key), group, total_invited, table))
    municipality = pd.DataFrame(totals)
    return pd.concat([table, municipality], ignore_index=True)


def _values(table: pd.DataFrame, ordinal: np.ndarray[Any, Any]) -> pd.DataFrame:
    n = table["n"].to_numpy(dtype=float)
    x = np.minimum(np.maximum(table["x"].to_numpy(dtype=float), 0), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where((n > 0) & ordinal, x / n, np.nan)
        low, high = _wilson(x, n)
        kind = table["kind"].to_numpy()
        scored = (n > 0) & ordinal & np.isin(kind, (ITEM, THEME))
        table["top_box"] = np.where(scored, table["top_sum"] / n, np.nan)
        table["index"] = np.where(scored, table["index_sum"] / n, np.nan)
        table["mean"] = np.where((n > 0) & (kind == TILS), table["mean_sum"] / n, np.nan)
    table["p"] = share
    table["low"] = np.where(np.isnan(share), np.nan, low)
    table["high"] = np.where(np.isnan(share), np.nan, high)
    table["ordinal"] = ordinal
    return table


def _municipality(
    key: tuple[Any, ...], group: pd.DataFrame, total_invited: dict[str, int], table: pd.DataFrame
) -> dict[str, Any]:
    audience, kind, _ = key
    members = group[group["member"]]
    n = float(members["n"].sum())
    row: dict[str, Any] = dict(zip(KEY, key, strict=True))
    row.update(unit_id=MUNICIPALITY, n=n, invited=total_invited.get(audience, 0))
    for column in ("dont_know", "skipped", "proxy", "completed", "partial"):
        row[column] = float(members[column].sum())
    p = low = high = math.nan
    if kind == RESPONSE:
        if n > 0:
            p = row["completed"] / n
            interval = wilson_interval(row["completed"], n)
            low, high = interval.low, interval.high
    else:
        answered = members[(members["n"] > 0) & members["p"].notna()]
        if len(answered) and bool(group["ordinal"].iloc[0]):
            p, n_eff = weighted_share(
                [
                    Stratum(float(c), float(s), float(m))
                    for c, s, m in zip(
                        answered["citizens"], answered["p"], answered["n"], strict=True
                    )
                ]
            )
            interval = wilson_interval(min(max(p * n_eff, 0.0), n_eff), n_eff)
            low, high = interval.low, interval.high
            row["n_eff"] = n_eff
        weights = members.loc[members["n"] > 0, "citizens"].astype(float)
        for column in ("top_box", "index", "mean"):
            values = members.loc[members["n"] > 0, column]
            usable = values.notna()
            if usable.any() and weights[usable].sum() > 0:
                row[column] = float(
                    (weights[usable] * values[usable]).sum() / weights[usable].sum()
                )
    row.update(p=p, low=low, high=high)
    state = "few_invited" if row["invited"] < MIN_INVITED else "none"
    if state == "none" and kind != RESPONSE and n < MIN_ANSWERS:
        state = "few_answers"
    # Secondary suppression: one hidden unit in the total would be given away.
    hidden = members[members["suppression"] != "none"]
    if len(hidden) == 1 and state == "none":
        shown = members[members["suppression"] == "none"]
        if len(shown):
            victim = shown.sort_values(["n", "unit_id"]).index[0]
            table.loc[victim, "suppression"] = "secondary"
        else:
            state = "secondary"
    row["suppression"] = state
    row["contributors"] = frozenset(int(u) for u in members["unit_id"])
    return row


def with_trend(current: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """The change of the headline share where both figures were shown (Newcombe)."""
    columns = [*CELL, "p", "n", "suppression", "contributors"]
    joined = current.merge(baseline[columns], on=CELL, how="left", suffixes=("", "_before"))
    usable = (
        (joined["kind"] != RESPONSE)
        & (joined["suppression"] == "none")
        & (joined["suppression_before"] == "none")
        & joined["p"].notna()
        & joined["p_before"].notna()
    )
    municipal = joined["unit_id"] == MUNICIPALITY
    same_units = [
        a == b for a, b in zip(joined["contributors"], joined["contributors_before"], strict=True)
    ]
    usable &= ~municipal | np.array(same_units)
    n_now = np.where(municipal, joined.get("n_eff", joined["n"]), joined["n"])
    n_then = np.where(municipal, joined.get("n_eff_before", joined["n_before"]), joined["n_before"])
    change, low, high = [], [], []
    for ok, p1, n1, p2, n2 in zip(
        usable, joined["p"], n_now, joined["p_before"], n_then, strict=True
    ):
        estimate = interval_low = interval_high = math.nan
        if ok:
            difference = newcombe_difference(p1 * n1, n1, p2 * n2, n2)
            estimate = difference.estimate
            interval_low, interval_high = difference.interval.low, difference.interval.high
        change.append(estimate)
        low.append(interval_low)
        high.append(interval_high)
    joined["change"], joined["change_low"], joined["change_high"] = change, low, high
    joined["significant"] = (joined["change_low"] > 0) | (joined["change_high"] < 0)
    return joined


def report(
    answers: pd.DataFrame,
    deliveries: pd.DataFrame,
    units: pd.DataFrame,
    rules: Rules,
    rounds: set[int],
    baseline: set[int] | None = None,
) -> pd.DataFrame:
    """The figures of ``rounds``, with the change against ``baseline`` if given."""

    def part(which: set[int]) -> pd.DataFrame:
        return figures(
            answers[answers["round_id"].isin(which)],
            deliveries[deliveries["round_id"].isin(which)],
            units,
            rules,
        )

    current = part(rounds)
    return with_trend(current, part(baseline)) if baseline else current


SHOWN = ["audience", "kind", "subject", "unit_id", "suppression", "n", "p", "low", "high"]
SHOWN += ["dont_know", "skipped", "proxy", "top_box", "index", "mean", "completed", "partial"]


def written(table: pd.DataFrame) -> pd.DataFrame:
    """What an export shows: numbers only where the figure passed suppression."""
    out = table.reindex(columns=[*SHOWN, "change", "change_low", "change_high"]).copy()
    hidden = out["suppression"] != "none"
    numbers = [
        c for c in out.columns if c not in ("audience", "kind", "subject", "unit_id", "suppression")
    ]
    out.loc[hidden, numbers] = np.nan
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pandas_ref", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("units", type=Path)
    parser.add_argument("--rounds", required=True, help="comma-separated round ids")
    parser.add_argument("--baseline", default="", help="comma-separated round ids")
    parser.add_argument("--format", choices=["csv", "xlsx"], required=True)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    from surveys.questionnaire.loader import load_surveys

    rules = Rules.of(load_surveys()["standard"])
    answers, deliveries = read(args.folder)
    rounds = {int(r) for r in args.rounds.split(",")}
    baseline = {int(r) for r in args.baseline.split(",") if r}
    table = written(report(answers, deliveries, read_units(args.units), rules, rounds, baseline))
    if args.format == "csv":
        table.to_csv(args.output, index=False, sep=";", decimal=",", encoding="utf-8-sig")
    else:
        table.to_excel(args.output, index=False, engine="xlsxwriter")


if __name__ == "__main__":
    main()
