"""The layers of the code hold (import-linter, contracts in pyproject.toml), and an import that
runs the wrong way is caught and named."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("bot", "web", "surveys", "storage", "standin", "demo")
LAYERS = "surveys/ is layered: each layer imports only the layers below it"
NO_EDGE = "The domain knows no edge: surveys/ imports no bot/, web/, aiogram, aiohttp"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` run in ``cwd`` against the packages found there, without a cache."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_contract_is_kept_on_the_real_tree() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert " BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("wrong_import", "contract", "arrow"),
    [
        (
            "from surveys.exports import labels",
            LAYERS,
            "surveys.questionnaire.schema -> surveys.exports.labels",
        ),
        ("import bot", NO_EDGE, "surveys.questionnaire.schema -> bot"),
    ],
)
def test_an_import_running_the_wrong_way_fails_and_names_its_contract(
    tmp_path: Path, wrong_import: str, contract: str, arrow: str
) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    schema = tmp_path / "surveys" / "questionnaire" / "schema.py"
    schema.write_text(schema.read_text(encoding="utf-8") + f"\n{wrong_import}\n", encoding="utf-8")

    result = lint_imports(tmp_path)

    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout
    assert arrow in result.stdout
