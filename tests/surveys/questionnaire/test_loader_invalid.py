"""Broken survey files fail with one line naming the file, the item and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveys.questionnaire.loader import (
    SURVEY_DIR,
    SurveyFileError,
    load_survey,
    load_surveys,
    survey_from_snapshot,
)

# A small, valid survey; each test breaks one thing in it.
MINIMAL = """\
id: mini
version: 2
title: "Lille test"
intro: "Vi vil gerne høre om hjælpen."
scales:
  T3:
    best: first
    options: ["Næsten aldrig", "Af og til", "Ofte"]
  HYP5:
    best: first
    options: ["Altid", "Ofte", "Nogle gange", "Sjældent", "Aldrig"]
items:
  - id: E2
    theme: ensomhed
    audience: [citizen]
    scale: T3
    tils: true
    text: "Hvor ofte føler du, at du savner nogen at være sammen med?"
  - id: E3
    theme: ensomhed
    audience: [citizen]
    scale: T3
    tils: true
    text: "Hvor ofte føler du dig holdt udenfor?"
  - id: E4
    theme: ensomhed
    audience: [citizen]
    scale: T3
    tils: true
    text: "Hvor ofte føler du dig isoleret fra andre?"
  - id: V1
    theme: vaerdighed
    audience: [citizen, relative]
    scale: HYP5
    text:
      citizen: "Behandler medarbejderne dig med respekt?"
      relative: "Behandler medarbejderne {name} med respekt?"
comment:
  prompt: "Er der andet, du vil fortælle os?"
  warning: "Skriv ikke navne."
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def broken(original: str, new: str, count: int = 1) -> str:
    assert original in MINIMAL, original
    return MINIMAL.replace(original, new, count)


def fail(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SurveyFileError) as info:
        load_survey(path)
    message = str(info.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return path, message


def test_minimal_survey_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    survey = load_survey(path)
    assert survey.id == "mini"
    assert [item.id for item in survey.items_for("citizen", "care_home")] == [
        "E2",
        "E3",
        "E4",
        "V1",
    ]


def test_bad_yaml_names_item_and_line(tmp_path: Path) -> None:
    # An unquoted colon inside a text is a classic editing mistake.
    text = broken(
        '    text: "Hvor ofte føler du dig holdt udenfor?"',
        "    text: Hvor ofte: føler du dig holdt udenfor?",
    )
    path, message = fail(tmp_path, text)
    line = line_of(text, "Hvor ofte: føler")
    assert message.startswith(f"{path}: item E3: invalid YAML at line {line}, column ")
    assert "mapping values are not allowed here" in message


def test_unknown_scale(tmp_path: Path) -> None:
    text = broken("    scale: HYP5\n", "    scale: HYP7\n")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: unknown scale 'HYP7'")
    assert "HYP5" in message  # tells which scales exist
    assert message.endswith(f"(line {line_of(text, 'scale: HYP7')})")


def test_duplicate_item_id(tmp_path: Path) -> None:
    text = broken("  - id: V1\n", "  - id: E3\n")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item E3: the id is used twice")
    second = [n for n, line in enumerate(text.splitlines(), 1) if "- id: E3" in line][1]
    assert message.endswith(f"(line {second})")


def test_two_tils_items_are_refused(tmp_path: Path) -> None:
    text = broken(
        '    tils: true\n    text: "Hvor ofte føler du dig isoleret',
        '    text: "Hvor ofte føler du dig isoleret',
    )
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item E2: ")
    assert "exactly three items marked tils, found 2 (E2, E3)" in message


def test_tils_item_on_a_five_point_scale_is_refused(tmp_path: Path) -> None:
    text = broken(
        '    scale: T3\n    tils: true\n    text: "Hvor ofte føler du dig holdt',
        '    scale: HYP5\n    tils: true\n    text: "Hvor ofte føler du dig holdt',
    )
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item E3: T-ILS items must use a 3-option")


def test_unknown_placeholder(tmp_path: Path) -> None:
    text = broken("{name} med respekt", "{navn} med respekt")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: unknown placeholder {{navn}}")
    assert message.endswith(f"(line {line_of(text, '{navn}')})")


def test_placeholder_in_citizen_text(tmp_path: Path) -> None:
    text = broken("medarbejderne dig med", "medarbejderne {name} med")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: the citizen text uses {{name}}")


def test_unbalanced_brace(tmp_path: Path) -> None:
    text = broken("{name} med respekt", "{name med respekt")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: text has a '{{' or '}}'")


def test_too_many_items_for_one_person(tmp_path: Path) -> None:
    text = broken("comment:\n", "max_items_per_person: 3\ncomment:\n")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: citizens in care homes would get 4 questions")
    assert "at most 3" in message


def test_no_items_for_one_unit_kind(tmp_path: Path) -> None:
    text = broken(
        "    audience: [citizen, relative]\n",
        "    audience: [citizen, relative]\n    unit_kinds: [care_home]\n",
    )
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: no questions for relatives in home care")


def test_misspelt_field(tmp_path: Path) -> None:
    text = broken("    scale: HYP5\n", "    scale: HYP5\n    negativ: true\n")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: unknown field 'negativ'")
    assert "negative" in message  # lists the allowed names


def test_missing_field(tmp_path: Path) -> None:
    text = broken("    scale: HYP5\n", "")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: missing required field 'scale'")


def test_unknown_theme_shows_what_was_written(tmp_path: Path) -> None:
    text = broken("theme: vaerdighed", "theme: værdighed")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: theme: ")
    assert "'vaerdighed'" in message
    assert "(got 'værdighed')" in message


def test_text_for_an_audience_not_asked(tmp_path: Path) -> None:
    text = broken("    audience: [citizen, relative]\n", "    audience: [citizen]\n")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: a text for relative")


def test_repeated_key_is_not_silently_dropped(tmp_path: Path) -> None:
    text = broken("    scale: HYP5\n", "    scale: HYP5\n    scale: T3\n")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: the key 'scale' appears twice")


def test_dont_know_is_not_a_scale_option(tmp_path: Path) -> None:
    text = broken('"Sjældent", "Aldrig"', '"Sjældent", "Ved ikke"')
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: scale HYP5: option 'Ved ikke' must not be part")


def test_smileys_must_match_options(tmp_path: Path) -> None:
    text = broken(
        '    options: ["Næsten aldrig", "Af og til", "Ofte"]\n',
        '    options: ["Næsten aldrig", "Af og til", "Ofte"]\n    smileys: ["🙂"]\n',
    )
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: scale T3: has 1 smileys for 3 options")


def test_proxy_value_outside_scale(tmp_path: Path) -> None:
    text = broken("    scale: HYP5\n", "    scale: HYP5\n    proxy_values: [6]\n")
    path, message = fail(tmp_path, text)
    assert message.startswith(f"{path}: item V1: proxy_values has 6")


def test_empty_file_and_list_file(tmp_path: Path) -> None:
    path, message = fail(tmp_path, "")
    assert message == f"{path}: the file is empty"
    path, message = fail(tmp_path, "- id: E1\n")
    assert message.startswith(f"{path}: the file must be a mapping")


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(SurveyFileError) as info:
        load_survey(path)
    assert str(info.value).startswith(f"{path}: cannot read the file")


def test_duplicate_survey_ids_in_a_directory(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(SurveyFileError) as info:
        load_surveys(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'b.yaml'}: survey id 'mini' is already used by {tmp_path / 'a.yaml'}"
    )


def test_broken_snapshot_is_reported_as_one_line() -> None:
    snapshot = load_survey(SURVEY_DIR / "standard.yaml").snapshot()
    snapshot["items"][1]["scale"] = "GONE"
    with pytest.raises(SurveyFileError) as info:
        survey_from_snapshot(snapshot)
    assert str(info.value).startswith("snapshot of standard v1: item E1: unknown scale 'GONE'")
