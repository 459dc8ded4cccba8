"""Benchmark 3: indicators and exports on a generated municipality of a million answers.

Pejling: ``surveys.indicators.compute_report`` on SQLite and PostgreSQL (GROUP BY in
the database), and ``pejling export`` as a process of its own for the files. Reference:
``bench.pandas_ref``, the same figures with pandas from flat CSV files of the answers,
in the same run; the two are checked to agree figure by figure.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import pandas as pd

from bench import dataset, pandas_ref
from bench.common import (
    Check,
    Finished,
    Section,
    child_env,
    engine_of,
    growth,
    median,
    module_command,
    pejling_command,
    ratio,
    run_to_end,
    throwaway_database,
)
from storage.db import session_factory
from surveys.clock import DANISH_TIME
from surveys.fieldwork import rounds as round_work
from surveys.fieldwork.definitions import load_version
from surveys.indicators import (
    Report,
    Selection,
    compute_report,
    period_selection,
    round_selection,
    sql,
)

EXPORT_RSS_LIMIT = 300.0  # MB
INDICATOR_LIMIT = 2.0  # seconds, on PostgreSQL


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    """Median wall time of ``work``: three runs, or one when a run takes over 3 s."""
    times: list[float] = []
    while len(times) < 3:
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
        if times[-1] > 3:
            break
    return median(times)


def timed_sync(work: Callable[[], object]) -> float:
    times: list[float] = []
    while len(times) < 3:
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
        if times[-1] > 3:
            break
    return median(times)


@dataclass(frozen=True)
class Agreement:
    compared: int
    differing: int
    example: str = ""


def agreement(report: Report, table: pd.DataFrame) -> Agreement:
    """Do Pejling and pandas show the same figures: suppression, n, share and change?"""
    rows = {
        (str(a), str(k), str(s), int(u)): r
        for a, k, s, u, r in zip(
            table["audience"],
            table["kind"],
            table["subject"],
            table["unit_id"],
            table.itertuples(index=False),
            strict=True,
        )
    }
    differing, example = 0, ""
    for (key, unit_id), figure in report.figures.items():
        row = rows.get((key.audience.value, key.kind.value, key.subject, unit_id or 0))
        problem = _difference(figure, row)
        if problem:
            differing += 1
            example = example or f"{key} unit {unit_id}: {problem}"
    return Agreement(len(report.figures), differing, example)


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-9


def _difference(figure: object, row: object) -> str:
    from surveys.indicators import Figure

    assert isinstance(figure, Figure)
    if row is None:
        return "missing in pandas"
    if figure.suppression.value != row.suppression:  # type: ignore[attr-defined]
        return f"suppression {figure.suppression.value} vs {row.suppression}"  # type: ignore[attr-defined]
    values = figure.values
    if values is None:
        return ""
    if not _close(values.n, row.n):  # type: ignore[attr-defined]
        return f"n {values.n} vs {row.n}"  # type: ignore[attr-defined]
    share = values.share.p if values.share is not None else math.nan
    if not _close(share, row.p):  # type: ignore[attr-defined]
        return f"share {share} vs {row.p}"  # type: ignore[attr-defined]
    change = figure.change.difference.estimate if figure.change is not None else math.nan
    theirs = getattr(row, "change", math.nan)
    if not _close(change, theirs):
        return f"change {change} vs {theirs}"
    return ""


def _danish_day(round_number: int) -> date:
    return dataset.opening(round_number).astimezone(DANISH_TIME).date()


async def _pejling_report(url: str, selection: Callable[..., Awaitable[Selection]]) -> Report:
    async with engine_of(url) as engine, session_factory(engine)() as session:
        return await compute_report(session, await selection(session), comments=False)


@dataclass
class Timing:
    pejling: dict[str, float]  # database -> seconds
    pandas_read: float
    pandas_compute: float
    answers: int

    @property
    def pandas(self) -> float:
        return self.pandas_read + self.pandas_compute


@dataclass(frozen=True)
class Export:
    who: str  # "sqlite", "postgres" or "pandas"
    selection: str
    format: str
    run: Finished


async def run(workdir: Path, *, quick: bool, databases: list[str]) -> Section:
    section = Section("indicators", "3. Indicators and exports at scale")
    shape = dataset.QUICK if quick else dataset.FULL
    last = shape.rounds
    # One round, then a quarter, half and all of the year (250k, 500k, 1M answers).
    spans = sorted({k for k in (1, last // 4, last // 2) if k >= 1} | {last})
    selections = {f"first_{k:02d}": frozenset(range(1, k + 1)) for k in spans}
    selections["last_round"] = frozenset({last - 1, last})
    csv_folder = workdir / "flat"
    rules = pandas_ref.Rules.of(dataset.standard())

    async with contextlib.AsyncExitStack() as stack:
        urls = {
            d: await stack.enter_async_context(throwaway_database(d, workdir)) for d in databases
        }
        started = time.perf_counter()
        counts = await dataset.build(shape, urls, csv_folder, selections)
        _describe(section, shape, counts, time.perf_counter() - started, databases)
        units = pandas_ref.read_units(csv_folder / "units.csv")
        year_rounds = tuple(range(1, last + 1))
        # First as a report finds rounds before they are tallied: from the answers.
        live = Timing({}, 0.0, 0.0, 0)
        for database, url in urls.items():
            live.pejling[database] = await timed(partial(_pejling_year, url))
        live_check = await _year_agreement(
            next(iter(urls.values())), csv_folder, units, rules, last
        )
        breakdown = {d: await _where_time_goes(url, year_rounds) for d, url in urls.items()}
        # Then as closing them leaves them: each round's answers counted into its tally.
        tallying = {d: await _tally_rounds(url) for d, url in urls.items()}
        tallied = {
            d: await _where_time_goes(url, year_rounds, tallied=True) for d, url in urls.items()
        }
        round_timing, round_check = await _round(urls, csv_folder, units, rules, last)
        span_timings, year_check = await _spans(urls, csv_folder, units, rules, spans)
        year = span_timings[last]
        live.answers, live.pandas_read, live.pandas_compute = (
            year.answers,
            year.pandas_read,
            year.pandas_compute,
        )
        _indicator_tables(section, databases, round_timing, span_timings, round_check, year_check)
        _tally_tables(section, databases, live, year, live_check, tallying)
        _breakdown_table(section, breakdown, tallied, live, year)
        # The growth of the exports' memory on one database (PostgreSQL when there is one)
        # is enough to show it stays flat; the round and the year are exported on both.
        scaled = databases[-1] if not quick else None
        exported = urls if not quick else dict(list(urls.items())[:1])
        exports = _exports(workdir, exported, csv_folder, spans, last, scaled)
        _export_tables(section, databases, exports, span_timings, spans, scaled)
    _checks(section, databases, round_timing, year, exports, round_check, year_check, tallied)
    section.checks.append(
        Check(
            "Indicators of the year from the answers (no round tallied yet): Pejling and "
            "pandas agree",
            f"{live_check.differing} of {live_check.compared} differ",
            "0 differ",
            live_check.differing == 0,
            live_check.example,
        )
    )
    return section


async def _pejling_year(url: str) -> Report:
    first, upto = dataset.YEAR
    return await _pejling_report(url, lambda session: period_selection(session, first, upto))


async def _year_agreement(
    url: str, csv_folder: Path, units: pd.DataFrame, rules: pandas_ref.Rules, last: int
) -> Agreement:
    answers, deliveries = pandas_ref.read(csv_folder / f"first_{last:02d}")
    table = pandas_ref.report(answers, deliveries, units, rules, set(range(1, last + 1)))
    return agreement(await _pejling_year(url), table)


async def _tally_rounds(url: str) -> list[float]:
    """Tally every closed round, one at a time, as the housekeeping job does; the seconds
    of each (the work closing a round adds)."""
    spent: list[float] = []
    async with engine_of(url) as engine, session_factory(engine)() as session:
        while True:
            started = time.perf_counter()
            if not await round_work.tally_closed_rounds(session):
                break
            await session.commit()
            spent.append(time.perf_counter() - started)
    return spent


def _tally_tables(
    section: Section,
    databases: list[str],
    live: Timing,
    year: Timing,
    live_check: Agreement,
    tallying: dict[str, list[float]],
) -> None:
    section.add(
        "### A year of closed rounds: from their tallies",
        "",
        "When a round closes, its answers are counted once into `round_tallies` (one row "
        "per unit, audience, proxy flag, item, answer and the person's count of the "
        "theme's items; `surveys.fieldwork.tallies.tally_round`), so a report over closed "
        "rounds sums those rows instead of reading every answer again. A closed round "
        "takes no answers, and deleting someone's data drops the tally until the "
        "housekeeping job counts it again. The times above are from the tallies (every "
        "round of the benchmark is closed); here, the same year before any round was "
        "tallied, and what tallying costs when a round closes:",
        "",
    )
    rows: list[Sequence[object]] = []
    for database in databases:
        spent = tallying[database]
        rows.append(
            (
                database,
                f"{live.pejling[database]:.2f} s",
                f"{year.pejling[database]:.2f} s",
                f"{ratio(live.pandas, live.pejling[database]):.2f}",
                f"{ratio(year.pandas, year.pejling[database]):.2f}",
                f"{median(spent):.2f} s (at most {max(spent):.2f} s)" if spent else "-",
            )
        )
    section.table(
        (
            "database",
            f"the year from the answers ({year.answers:,})",
            "the year from the tallies",
            "pandas / Pejling, answers",
            "pandas / Pejling, tallies",
            f"tallying one round ({year.answers // max(1, len(next(iter(tallying.values())))):,} "
            "answers), median",
        ),
        rows,
    )
    section.add(
        f"From the answers, Pejling and pandas agree on "
        f"{live_check.compared - live_check.differing} of {live_check.compared} figures of "
        "the year.",
        "",
    )


def _describe(
    section: Section,
    shape: dataset.Shape,
    counts: dict[str, int],
    built: float,
    databases: list[str],
) -> None:
    section.add(
        f"A generated municipality: {shape.units} units (half care homes, half home care, "
        f"20-79 active citizens each), {shape.rounds} rounds opened in 2025 every 18 days, "
        f"**{counts['answers']:,} answers** ({shape.per_unit_round} per unit and round) "
        f"from {counts['deliveries']:,} deliveries, {counts['comments']:,} comments; "
        f"built in {built:.0f} s into {', '.join(databases)} (COPY on PostgreSQL, "
        "executemany on SQLite, then VACUUM ANALYZE on PostgreSQL as autovacuum would) "
        "and into flat CSV files for pandas. Since every round is in 2025, the year covers "
        "every answer.",
        "",
        "Pejling: `compute_report(session, selection, comments=False)` (every indicator, "
        "municipality roll-up, suppression; for a round also the baseline round and the "
        "trend), in this process. Reference: `bench/pandas_ref.py`, the same figures with "
        "pandas from a flat CSV of the selection's answers (one row per answer with its "
        "unit, audience, status and proxy flag) plus a CSV of the deliveries; read and "
        "compute timed apart. Times are medians of three runs (one run past 3 s).",
        "",
    )


def _indicator_tables(
    section: Section,
    databases: list[str],
    round_timing: Timing,
    span_timings: dict[int, Timing],
    round_check: Agreement,
    year_check: Agreement,
) -> None:
    year = span_timings[max(span_timings)]
    section.add("### Every indicator of a round and of the year", "")
    rows: list[Sequence[object]] = []
    for label, timing in (("a round (+ its baseline round)", round_timing), ("the year", year)):
        for database in databases:
            seconds = timing.pejling[database]
            rows.append(
                (
                    label,
                    f"{timing.answers:,}",
                    database,
                    f"{seconds:.2f} s",
                    f"{timing.pandas:.2f} s ({timing.pandas_read:.2f} read + "
                    f"{timing.pandas_compute:.2f})",
                    f"**{ratio(timing.pandas, seconds):.2f}**",
                    f"{ratio(timing.pandas_compute, seconds):.2f}",
                )
            )
    section.table(
        (
            "selection",
            "answers",
            "database",
            "Pejling",
            "pandas (read + compute)",
            "pandas / Pejling (>1: Pejling faster)",
            "pandas compute only / Pejling",
        ),
        rows,
    )
    differing = round_check.differing + year_check.differing
    section.add(
        f"The two agree: round {round_check.compared - round_check.differing} of "
        f"{round_check.compared} figures identical (suppression, n, share, change), year "
        f"{year_check.compared - year_check.differing} of {year_check.compared}."
        + (f" First difference: {round_check.example or year_check.example}." if differing else ""),
        "",
        "Growth with the answers (periods of the first k rounds: one round, a quarter, half "
        "and all of the year; the ideal growth is that of the answers, "
        f"{growth([float(span_timings[k].answers) for k in sorted(span_timings)])}):",
        "",
    )
    spans = sorted(span_timings)
    rows = [
        (
            k,
            f"{span_timings[k].answers:,}",
            *(f"{span_timings[k].pejling[d]:.2f} s" for d in databases),
            f"{span_timings[k].pandas:.2f} s",
        )
        for k in spans
    ]
    rows.append(
        (
            "growth",
            "",
            *(growth([span_timings[k].pejling[d] for k in spans]) for d in databases),
            growth([span_timings[k].pandas for k in spans]),
        )
    )
    section.table(
        ("rounds", "answers", *(f"Pejling {d}" for d in databases), "pandas (read + compute)"),
        rows,
    )


QUERIES = ("units_of", "delivery_counts", "answer_tables")


async def _where_time_goes(
    url: str, round_ids: tuple[int, ...], *, tallied: bool = False
) -> dict[str, float]:
    """Seconds of each of compute_report's queries for the year, run once each, from the
    answers or from the rounds' tallies."""
    spent: dict[str, float] = {}
    async with engine_of(url) as engine, session_factory(engine)() as session:
        version = (await round_selection(session, round_ids[-1])).survey_version_id
        survey = await load_version(session, version)
        for name in QUERIES:
            query = getattr(sql, name)
            started = time.perf_counter()
            if name == "answer_tables":
                await query(session, survey, round_ids, set(round_ids) if tallied else ())
            else:
                await query(session, round_ids)
            spent[name] = time.perf_counter() - started
    return spent


def _breakdown_table(
    section: Section,
    breakdown: dict[str, dict[str, float]],
    tallied: dict[str, dict[str, float]],
    live: Timing,
    year: Timing,
) -> None:
    section.add(
        "Where Pejling's time goes for the year: each query of `surveys/indicators/sql.py` "
        "timed alone, one run each (so their sum may differ from the report's median a "
        "little; `answer_tables` includes turning its rows into tables in Python), from the "
        "answers and from the tallies; the rest of `compute_report` is assembling, "
        "suppressing and rolling up in Python.",
        "",
    )
    columns = [(d, "answers", spent, live) for d, spent in breakdown.items()] + [
        (d, "tallies", spent, year) for d, spent in tallied.items()
    ]
    rows: list[Sequence[object]] = []
    for name in QUERIES:
        rows.append((f"`{name}`", *(f"{spent[name]:.2f} s" for _, _, spent, _ in columns)))
    rows.append(
        (
            "all queries / whole report",
            *(
                f"{sum(spent.values()):.2f} s / {timing.pejling[database]:.2f} s"
                for database, _, spent, timing in columns
            ),
        )
    )
    section.table(("query", *(f"{d}, from the {source}" for d, source, _, _ in columns)), rows)


def _export_tables(
    section: Section,
    databases: list[str],
    exports: list[Export],
    span_timings: dict[int, Timing],
    spans: list[int],
    scaled: str | None,
) -> None:
    section.add(
        "### Exports: wall time and peak RSS of the process",
        "",
        "Pejling: `pejling export --format xlsx|csv` as a process of its own (its imports, "
        "the report, the file); reference: `python -m bench.pandas_ref ... --format "
        "xlsx|csv`, pandas reading the flat CSV, computing the same figures and writing "
        "them (`to_excel`, `to_csv`). Peak RSS: ru_maxrss from wait4 of that process.",
        "",
    )
    rows: list[Sequence[object]] = []
    for selection in ("round", "year"):
        for fmt in ("xlsx", "csv"):
            for e in exports:
                if e.selection == selection and e.format == fmt:
                    rows.append(
                        (
                            selection,
                            fmt,
                            "pandas reference" if e.who == "pandas" else f"Pejling, {e.who}",
                            f"{e.run.seconds:.1f} s",
                            f"{e.run.peak_mb:.0f} MB",
                            "ok" if e.run.returncode == 0 else f"exit {e.run.returncode}",
                        )
                    )
    section.table(("selection", "format", "who", "wall", "peak RSS", "result"), rows)
    if scaled is None:
        return
    section.add(
        f"Peak RSS as the answers double (CSV export of the first k rounds; Pejling on {scaled}):",
        "",
    )
    rows = []
    peaks: dict[str, list[float]] = {}
    for k in spans:
        row: list[object] = [k, f"{span_timings[k].answers:,}"]
        for who in (scaled, "pandas"):
            [e] = [e for e in exports if e.who == who and e.selection == f"first_{k:02d}"]
            peaks.setdefault(who, []).append(e.run.peak_mb)
            row.append(f"{e.run.peak_mb:.0f} MB ({e.run.seconds:.1f} s)")
        rows.append(row)
    rows.append(["growth", "", growth(peaks[scaled]), growth(peaks["pandas"])])
    section.table(("rounds", "answers", f"Pejling {scaled}", "pandas reference"), rows)


async def _round(
    urls: dict[str, str],
    csv_folder: Path,
    units: pd.DataFrame,
    rules: pandas_ref.Rules,
    last: int,
) -> tuple[Timing, Agreement]:
    """Every indicator of the last round, with its baseline (the round before) and trend."""

    async def pejling(url: str) -> Report:
        return await _pejling_report(url, lambda session: round_selection(session, last))

    timing = Timing({}, 0.0, 0.0, 0)
    for database, url in urls.items():
        timing.pejling[database] = await timed(partial(pejling, url))
    folder = csv_folder / "last_round"
    answers, deliveries = pandas_ref.read(folder)
    timing.answers = int((answers["round_id"] == last).sum())

    def reference() -> pd.DataFrame:
        return pandas_ref.report(answers, deliveries, units, rules, {last}, {last - 1})

    timing.pandas_read = timed_sync(partial(pandas_ref.read, folder))
    timing.pandas_compute = timed_sync(reference)
    check = agreement(await pejling(next(iter(urls.values()))), reference())
    return timing, check


async def _spans(
    urls: dict[str, str],
    csv_folder: Path,
    units: pd.DataFrame,
    rules: pandas_ref.Rules,
    spans: list[int],
) -> tuple[dict[int, Timing], Agreement]:
    """Every indicator of the periods covering the first k rounds; the last is the year."""
    timings: dict[int, Timing] = {}
    check = Agreement(0, 0)
    for k in spans:
        first, upto = dataset.YEAR[0], _danish_day(k)

        async def pejling(url: str, first: date = first, upto: date = upto) -> Report:
            return await _pejling_report(
                url, lambda session: period_selection(session, first, upto)
            )

        timing = Timing({}, 0.0, 0.0, 0)
        for database, url in urls.items():
            timing.pejling[database] = await timed(partial(pejling, url))
        folder = csv_folder / f"first_{k:02d}"
        answers, deliveries = pandas_ref.read(folder)
        rounds = set(range(1, k + 1))

        def reference(
            a: pd.DataFrame = answers, d: pd.DataFrame = deliveries, r: set[int] = rounds
        ) -> pd.DataFrame:
            return pandas_ref.report(a, d, units, rules, r)

        timing.answers = len(answers)
        timing.pandas_read = timed_sync(partial(pandas_ref.read, folder))
        timing.pandas_compute = timed_sync(reference)
        if k == spans[-1]:
            check = agreement(await pejling(next(iter(urls.values()))), reference())
        timings[k] = timing
    return timings, check


def _exports(
    workdir: Path,
    urls: dict[str, str],
    csv_folder: Path,
    spans: list[int],
    last: int,
    scaled: str | None,
) -> list[Export]:
    """Every export run, Pejling's and the reference's, one process each."""
    out_dir = workdir / "exports"
    out_dir.mkdir(exist_ok=True)
    year_end = dataset.YEAR[1].isoformat()
    first = dataset.YEAR[0].isoformat()
    plans: list[tuple[str, str, list[str]]] = [("round", "", ["--round", str(last)])]
    plans.append(("year", "", ["--from", first, "--to", year_end]))
    growing = [
        (f"first_{k:02d}", "csv", ["--from", first, "--to", _danish_day(k).isoformat()])
        for k in spans
    ]
    exports = []
    for database, url in urls.items():
        env = child_env(DATABASE_URL=url, LOG_LEVEL="WARNING")
        for selection, only, args in plans + (growing if database == scaled else []):
            for fmt in [only] if only else ["xlsx", "csv"]:
                target = out_dir / f"{database}-{selection}.{fmt}"
                command = pejling_command("export", *args, "--format", fmt, "-o", str(target))
                exports.append(Export(database, selection, fmt, run_to_end(command, env, workdir)))
    units = str(csv_folder / "units.csv")
    reference: list[tuple[str, str, str, str]] = [
        ("round", "last_round", str(last), str(last - 1)),
        ("year", f"first_{last:02d}", ",".join(map(str, range(1, last + 1))), ""),
    ]
    env = child_env()
    for selection, folder, rounds, baseline in reference:
        for fmt in ("xlsx", "csv"):
            target = out_dir / f"pandas-{selection}.{fmt}"
            command = module_command(
                "bench.pandas_ref",
                str(csv_folder / folder),
                units,
                "--rounds",
                rounds,
                "--baseline",
                baseline,
                "--format",
                fmt,
                "-o",
                str(target),
            )
            exports.append(Export("pandas", selection, fmt, run_to_end(command, env, workdir)))
    for k in spans if scaled else []:
        command = module_command(
            "bench.pandas_ref",
            str(csv_folder / f"first_{k:02d}"),
            units,
            "--rounds",
            ",".join(map(str, range(1, k + 1))),
            "--format",
            "csv",
            "-o",
            str(out_dir / f"pandas-first_{k:02d}.csv"),
        )
        exports.append(Export("pandas", f"first_{k:02d}", "csv", run_to_end(command, env, workdir)))
    return exports


def _checks(
    section: Section,
    databases: list[str],
    round_timing: Timing,
    year: Timing,
    exports: list[Export],
    round_check: Agreement,
    year_check: Agreement,
    breakdown: dict[str, dict[str, float]],
) -> None:
    for label, timing in (("a round", round_timing), ("the year", year)):
        for database in databases:
            seconds = timing.pejling[database]
            faster = seconds < timing.pandas
            note = ""
            if not faster:
                spent = breakdown[database]
                slowest = max(spent, key=lambda name: spent[name])
                note = (
                    f"slower by x{seconds / timing.pandas:.2f}: for the year, from the "
                    f"tallies, the slowest query, `{slowest}`, takes {spent[slowest]:.2f} s "
                    f"on {database}"
                )
            section.checks.append(
                Check(
                    f"Indicators of {label} ({timing.answers:,} answers) on {database}: "
                    "faster than pandas",
                    f"{seconds:.2f} s vs pandas {timing.pandas:.2f} s",
                    "Pejling < pandas",
                    faster,
                    note,
                )
            )
            if database == "postgres":
                spent = breakdown[database]
                section.checks.append(
                    Check(
                        f"Indicators of {label} on PostgreSQL: under {INDICATOR_LIMIT:g} s",
                        f"{seconds:.2f} s",
                        f"< {INDICATOR_LIMIT:g} s",
                        seconds < INDICATOR_LIMIT,
                        ""
                        if seconds < INDICATOR_LIMIT
                        else (
                            f"over by {seconds - INDICATOR_LIMIT:.2f} s: for the year, from the "
                            f"tallies, `answer_tables` takes {spent['answer_tables']:.2f} s and "
                            f"`delivery_counts` {spent['delivery_counts']:.2f} s"
                        ),
                    )
                )
    mine = [e for e in exports if e.who != "pandas"]
    worst = max(mine, key=lambda e: e.run.peak_mb)
    failed = [e for e in mine if e.run.returncode != 0]
    section.checks.append(
        Check(
            "Exports (XLSX and CSV, a round to the year): peak RSS",
            f"at most {worst.run.peak_mb:.0f} MB ({worst.who}, {worst.selection}, "
            f"{worst.format}); pandas up to "
            f"{max(e.run.peak_mb for e in exports if e.who == 'pandas'):.0f} MB",
            f"< {EXPORT_RSS_LIMIT:g} MB",
            worst.run.peak_mb < EXPORT_RSS_LIMIT and not failed,
            f"{len(failed)} export(s) failed" if failed else "",
        )
    )
    section.checks.append(
        Check(
            "Indicators: Pejling and pandas agree figure by figure",
            f"{round_check.differing + year_check.differing} of "
            f"{round_check.compared + year_check.compared} differ",
            "0 differ",
            round_check.differing + year_check.differing == 0,
            round_check.example or year_check.example,
        )
    )
