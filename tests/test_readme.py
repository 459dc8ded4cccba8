"""The README names only paths that exist, and its Layout section lists every package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FOLDERS = {"bot", "surveys", "storage", "standin", "demo", "locale", "tests", "bench", "scripts"}
FOLDERS |= {"docs", ".ci", "prometheus"}
# A path of the repository anywhere in the README: in code, in a link, in prose.
PATH = re.compile(rf"(?<![\w./-])((?:{'|'.join(map(re.escape, sorted(FOLDERS)))})/[\w./<>*-]*)")
# A bare name in the Layout block (``app.py``, ``cli/``), not a piece of a longer path.
NAME = re.compile(r"(?<![\w./-])([\w-]+(?:/|\.py|\.yaml))(?![\w./-])")
# Written by a run, never committed: a partial benchmark run's results.
MADE_BY_RUNS = {"bench/RESULTS-partial.md"}


def _exists(path: str) -> bool:
    """``locale/<lang>/...`` stands for any language: at least one must be there."""
    pattern = re.sub(r"<[^>]+>", "*", path.rstrip("."))
    return any(ROOT.glob(pattern)) if "*" in pattern else (ROOT / pattern).exists()


def _layout() -> list[str]:
    block = README.split("\n## Layout\n", 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines() if line.strip()]


def _layout_names() -> dict[str, list[str]]:
    """Each top-level entry of the Layout block and the paths it names, made whole: a bare
    name in an entry (``cli/``, ``app.py``, a sub-package) is inside that entry's folder,
    unless it is a top-level folder itself (``bench/``)."""
    entries: dict[str, list[str]] = {}
    folder = ""
    for line in _layout():
        if not line.startswith(" "):
            folder = line.split()[0]
            entries[folder] = []
            line = line[len(folder) :]
        entries[folder] += [
            name if name.rstrip("/") in FOLDERS else folder + name for name in NAME.findall(line)
        ]
    return entries


def test_every_path_the_readme_names_exists() -> None:
    named = {path.rstrip(".") for path in PATH.findall(README)} - MADE_BY_RUNS
    named |= {path for names in _layout_names().values() for path in names}
    named |= set(_layout_names())
    assert len(named) > 30  # the patterns still find what the README names
    assert sorted(path for path in named if not _exists(path)) == []


def test_the_layout_lists_every_package_and_every_part_of_surveys() -> None:
    entries = _layout_names()
    packages = {f"{p.parent.name}/" for p in ROOT.glob("*/__init__.py")}
    assert packages - {"build/"} <= set(entries)
    parts = {f"surveys/{p.parent.name}/" for p in ROOT.glob("surveys/*/__init__.py")}
    assert parts == {name for name in entries["surveys/"] if name.count("/") == 2}
