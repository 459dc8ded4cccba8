"""Every text a person can see is in the English catalog, and the compiled catalogs are current."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def source_messages() -> set[str]:
    """What `pybabel extract -F babel.cfg -k __` finds in the code and the survey files."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    keywords = {"_": None, "__": None, "gettext": None, "lazy_gettext": None}
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    found = source_messages()
    assert len(found) > 80, "the extractor found too little; is babel.cfg right?"
    return found


def test_english_catalog_translates_every_message(messages: set[str]) -> None:
    with open(LOCALE / "en" / "LC_MESSAGES" / "pejling.po", "rb") as po:
        catalog = read_po(po)
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    wrong_placeholders = sorted(
        m.id
        for m in catalog
        if m.id
        and m.string
        and set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))
    )
    assert missing == [], f"not translated to English: {missing}"
    assert fuzzy == []
    assert wrong_placeholders == []


def test_survey_texts_are_in_the_catalog(messages: set[str]) -> None:
    assert "Hvor tilfreds er du med maden?" in messages
    assert "Har {name} nogen at tale med og være sammen med i hverdagen?" in messages
    assert "Meget tilfreds" in messages


@pytest.mark.parametrize("language", ["da", "en"])
def test_compiled_catalogs_match_their_sources(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    with open(folder / "pejling.po", "rb") as po:
        source = {m.id: m.string for m in read_po(po) if m.id and m.string}
    with open(folder / "pejling.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = sorted(k for k, v in source.items() if compiled.gettext(str(k)) != v)
    assert stale == [], "run: pybabel compile -d locale -D pejling"
