"""Run the benchmarks and write their results: ``.venv/bin/python -m bench.run``.

``--quick`` is a smoke run with small sizes (under a minute); ``--only`` picks benchmarks
(sending, answering, indicators, idle, web). A full run of every benchmark writes
``bench/RESULTS.md``; a quick or partial one writes ``bench/RESULTS-partial.md`` unless
``--output`` says otherwise, so it never overwrites the full results.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import answering, idle, indicators, sending, web
from bench.common import (
    DATABASES,
    POSTGRES_URL,
    ROOT,
    Check,
    Section,
    drop_templates,
    load_average,
    markdown_table,
    postgres_problem,
    postgres_version,
)

Benchmark = Callable[..., Awaitable[Section]]
BENCHMARKS: dict[str, tuple[str, Benchmark]] = {
    "sending": ("1. Sending a round", sending.run),
    "answering": ("2. Answering", answering.run),
    "indicators": ("3. Indicators and exports at scale", indicators.run),
    "idle": ("4. Idle footprint", idle.run),
    "web": ("5. Answering on the web pages", web.run),
}
HERE = Path(__file__).resolve().parent


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", default="", help=f"comma-separated, of: {', '.join(BENCHMARKS)} (default all)"
    )
    parser.add_argument("--output", type=Path, help="where to write the results")
    args = parser.parse_args(argv)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()} or set(BENCHMARKS)
    unknown = sorted(chosen - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    args.chosen = [name for name in BENCHMARKS if name in chosen]
    if args.output is None:
        complete = not args.quick and args.chosen == list(BENCHMARKS)
        args.output = HERE / ("RESULTS.md" if complete else "RESULTS-partial.md")
    return args


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_total() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
                return f"{name}, Linux {platform.release()}"
    except OSError:
        pass
    return platform.platform()


def _commit() -> str:
    """The commit measured, and the tracked files changed on top of it (others may be
    working in the same tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return "unknown"
    files = [line[3:] for line in changed if line[3:]]
    return head + (f", with uncommitted changes to {', '.join(files)}" if files else "")


async def _machine(databases: list[str], problem: str | None, commit: str) -> list[tuple[str, str]]:
    postgres = await postgres_version() if "postgres" in databases else f"not used ({problem})"
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("aiogram", "SQLAlchemy", "aiosqlite", "asyncpg", "pydantic", "pandas")
    )
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", _memory_total()),
        ("OS", _os_name()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("PostgreSQL", postgres),
        ("SQLite", sqlite3.sqlite_version),
        ("Libraries", versions),
        ("Pejling", commit),
    ]


def _mark(check: Check) -> str:
    if check.met is None:
        return "not measured"
    return "**met**" if check.met else "**missed**"


def render(
    sections: list[Section],
    machine: list[tuple[str, str]],
    args: argparse.Namespace,
    started: datetime,
    seconds: float,
    loads: tuple[str, str],
) -> str:
    command = "python -m bench.run" + (" --quick" if args.quick else "")
    if args.chosen != list(BENCHMARKS):
        command += f" --only {','.join(args.chosen)}"
    lines = [
        "# Benchmark results",
        "",
        f"Written by `.venv/bin/{command}` on {started:%Y-%m-%d %H:%M} UTC, "
        f"in {seconds / 60:.1f} minutes{' (quick smoke run: small sizes)' if args.quick else ''}.",
        "",
        "## The machine",
        "",
        *markdown_table(("", ""), machine),
        "",
        f"Load average at the start: {loads[0]}; at the end: {loads[1]}.",
        "",
        "**Read the ratios, not the absolute times.** The machine has two cores and is shared: "
        "other developers run test suites on it at the same time (see the load average), so "
        "absolute times drift from run to run. That is why every benchmark measures Pejling and "
        "its reference side by side in the same run and reports their ratio; the ratios move "
        "much less than the times. Where it matters, the bot under test and the Bot API "
        "stand-in run in separate processes, so each has a core.",
        "",
        "## Summary: the issue's targets",
        "",
    ]
    checks = [check for section in sections for check in section.checks]
    lines += markdown_table(
        ("figure", "measured", "target", "", "by how much and why, where missed"),
        [(c.name, c.value, c.target, _mark(c), c.note) for c in checks],
    )
    lines.append("")
    for section in sections:
        lines += [f"## {section.title}", "", f"_{section.seconds:.0f} s of the run._", ""]
        lines += section.lines
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


async def _run_all(
    args: argparse.Namespace, workdir: Path, databases: list[str], sections: list[Section]
) -> None:
    for name in args.chosen:
        title, benchmark = BENCHMARKS[name]
        print(f"{title} ...", flush=True)
        began = time.perf_counter()
        try:
            section = await benchmark(workdir, quick=args.quick, databases=databases)
        except Exception as error:  # one benchmark failing must not lose the others
            traceback.print_exc()
            section = Section(name, title)
            section.add(f"Not measured: the benchmark failed with `{error!r}`.")
            section.checks.append(Check(title, "-", "-", None, f"failed: {error!r}"))
        section.seconds = time.perf_counter() - began
        section.add(f"Load average after this benchmark: {load_average()}.")
        print(f"    done in {section.seconds:.0f} s", flush=True)
        sections.append(section)


async def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The sender warns at every 429 it is fed on purpose; that is the benchmark, not news.
    logging.getLogger("bot.sender").setLevel(logging.ERROR)
    problem = await postgres_problem()
    databases = [d for d in DATABASES if d != "postgres" or problem is None]
    if problem:
        print(f"PostgreSQL is not reachable at {POSTGRES_URL} ({problem}); SQLite only")
    started, clock, commit = datetime.now(UTC), time.perf_counter(), _commit()
    start_load = load_average()
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="pejling-bench-") as folder:
        workdir = Path(folder)
        try:
            await _run_all(args, workdir, databases, sections)
        finally:
            await drop_templates()
    machine = await _machine(databases, problem, commit)
    text = render(
        sections, machine, args, started, time.perf_counter() - clock, (start_load, load_average())
    )
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
