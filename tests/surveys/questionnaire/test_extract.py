"""Translatable strings from survey files, for Babel."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from surveys.questionnaire.extract import extract_survey
from surveys.questionnaire.loader import SURVEY_DIR, SurveyFileError, load_survey

STANDARD = SURVEY_DIR / "standard.yaml"


def extracted(path: Path) -> list[tuple[int, None, str, list[str]]]:
    with path.open("rb") as fileobj:
        return list(extract_survey(fileobj, {}, [], {}))


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_every_person_facing_string_is_extracted() -> None:
    survey = load_survey(STANDARD)
    messages = {message for _, _, message, _ in extracted(STANDARD)}
    wanted = {survey.title, survey.intro, survey.name_fallback}
    wanted |= {survey.comment.prompt, survey.comment.warning}
    for scale in survey.scales.values():
        wanted |= set(scale.options)
    for item in survey.items:
        wanted |= {survey.text_for(item, audience) for audience in item.audience}
    assert wanted == messages


def test_line_numbers_point_at_the_text() -> None:
    source = STANDARD.read_text(encoding="utf-8")
    by_text = {message: line for line, _, message, _ in extracted(STANDARD)}
    assert by_text["Hvem svarer på spørgsmålene?"] == line_of(source, "Hvem svarer på")
    assert by_text["Meget utilfreds"] == line_of(source, '"Meget utilfreds"')
    assert by_text["Hvor tilfreds er du med den mad, {name} får?"] == line_of(
        source, "den mad, {name} får"
    )


def test_translator_comments_say_where_a_string_is_used() -> None:
    comments = {message: comments for _, _, message, comments in extracted(STANDARD)}
    assert comments["Hvor tilfreds er du med den mad, {name} får?"][0] == (
        "survey standard v1, item M1 (relative)"
    )
    assert comments["Hvor tilfreds er du med maden?"] == ["survey standard v1, item M1 (citizen)"]
    # Translators are told to keep the placeholders.
    assert any(
        "{name_gen}" in c
        for c in comments["Har {name} nogen at tale med og være sammen med i hverdagen?"]
    )
    assert comments["Jeg selv"] == ["survey standard v1, scale SVARER4, answer option 1 of 4"]


def test_extractor_works_on_a_file_without_name_fallback() -> None:
    source = b'id: x\nversion: 3\ntitle: "Titel"\nitems:\n  - id: Q1\n    text: "Hej?"\n'
    result = list(extract_survey(io.BytesIO(source), {}, [], {}))
    assert result[0] == (3, None, "Titel", ["survey x v3, title"])
    assert result[1][:3] == (6, None, "Hej?")
    assert result[-1][2] == "din pårørende"


def test_babel_finds_the_extractor_by_its_entry_point_name() -> None:
    results = list(extract_from_file("pejling_survey", str(STANDARD)))
    messages = {message for _, message, _, _ in results}
    assert "Er der andet, du vil fortælle os?" in messages
    assert "Næsten aldrig" in messages


def test_msgid_equals_what_the_bot_looks_up_for_multiline_texts(tmp_path: Path) -> None:
    # A folded block scalar ends in a newline; the survey model strips it, and
    # the extracted msgid must be the same string or the translation is never used.
    source = STANDARD.read_text(encoding="utf-8").replace(
        '    text: "Behandler medarbejderne dig med respekt?"',
        "    text: >\n      Behandler medarbejderne\n      dig med respekt?",
    )
    path = tmp_path / "folded.yaml"
    path.write_text(source, encoding="utf-8")
    wording = load_survey(path).text_for("V1", "citizen")
    assert wording == "Behandler medarbejderne dig med respekt?"
    assert wording in {message for _, _, message, _ in extracted(path)}


def test_broken_yaml_stops_extraction_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text('id: x\ntitle: "Titel\nitems: [\n', encoding="utf-8")
    with pytest.raises(SurveyFileError) as info:
        extracted(path)
    assert str(info.value).startswith(f"{path}: invalid YAML at line 4")
    assert "quoted scalar that starts at line 2" in str(info.value)  # the missing quote
    assert "\n" not in str(info.value)
