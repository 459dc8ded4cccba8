"""The packaged standard survey: what citizens and relatives will be asked."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from storage.enums import Audience, UnitKind
from surveys.questionnaire.loader import SURVEY_DIR, load_survey, load_surveys, survey_from_snapshot
from surveys.questionnaire.schema import Survey, Theme
from surveys.questionnaire.text import fill_placeholders

CORE_THEMES = {Theme.loneliness, Theme.meals, Theme.continuity, Theme.dignity}


@pytest.fixture(scope="module")
def standard() -> Survey:
    return load_survey(SURVEY_DIR / "standard.yaml")


def ids(survey: Survey, audience: Audience, kind: UnitKind) -> list[str]:
    return [item.id for item in survey.items_for(audience, kind)]


def test_standard_is_found_by_default_and_is_version_1() -> None:
    surveys = load_surveys()
    assert "standard" in surveys
    assert surveys["standard"].version == 1
    assert surveys["standard"].title


@pytest.mark.parametrize(
    ("audience", "kind", "expected"),
    [
        (
            Audience.CITIZEN,
            UnitKind.HOME_CARE,
            ["H1", "E1", "E2", "E3", "E4", "M1", "K1", "K2", "V1", "A1"],
        ),
        (
            Audience.CITIZEN,
            UnitKind.CARE_HOME,
            ["H1", "E1", "E2", "E3", "E4", "M1", "K2", "V1", "A1"],
        ),
        (Audience.RELATIVE, UnitKind.CARE_HOME, ["E5", "M1", "M4", "K5", "V3", "V4", "A1"]),
        (Audience.RELATIVE, UnitKind.HOME_CARE, ["E5", "M1", "K5", "V3", "A1"]),
    ],
)
def test_each_person_gets_the_agreed_questions_in_order(
    standard: Survey, audience: Audience, kind: UnitKind, expected: list[str]
) -> None:
    got = ids(standard, audience, kind)
    assert got == expected
    assert len(got) <= 10  # 2-3 minutes for one person


def test_items_for_accepts_plain_strings(standard: Survey) -> None:
    assert ids(standard, Audience.CITIZEN, UnitKind.HOME_CARE) == [
        item.id for item in standard.items_for("citizen", "home_care")
    ]
    with pytest.raises(ValueError):
        standard.items_for("visitor", "home_care")


@pytest.mark.parametrize("audience", list(Audience))
@pytest.mark.parametrize("kind", list(UnitKind))
def test_every_core_theme_is_asked_of_everyone(
    standard: Survey, audience: Audience, kind: UnitKind
) -> None:
    themes = {item.theme for item in standard.items_for(audience, kind)}
    assert themes >= CORE_THEMES


def test_who_answers_comes_first_and_flags_help(standard: Survey) -> None:
    first = standard.items_for(Audience.CITIZEN, UnitKind.CARE_HOME)[0]
    assert first.id == "H1"
    assert standard.text_for(first, Audience.CITIZEN) == "Hvem svarer på spørgsmålene?"
    scale = standard.scale_of(first)
    assert scale.best == "none"
    assert [scale.options[v - 1] for v in first.proxy_values] == [
        "Jeg selv med hjælp fra en pårørende",
        "Jeg selv med hjælp fra en medarbejder",
        "En pårørende svarer for mig",
    ]


def test_loneliness_items(standard: Survey) -> None:
    assert [item.id for item in standard.tils_items] == ["E2", "E3", "E4"]
    assert standard.scale_of("E2").options == ["Næsten aldrig", "Af og til", "Ofte"]
    e1 = standard.item("E1")
    assert e1.negative
    assert standard.scale_of(e1).options[0] == "Ja, ofte"
    # Never the stigmatised direct question.
    texts = [standard.text_for(i, a) for i in standard.items for a in i.audience]
    assert not any("ensom" in text.lower() for text in texts)


def test_scales_hold_no_dont_know_or_skip(standard: Survey) -> None:
    for scale in standard.scales.values():
        lowered = [option.lower() for option in scale.options]
        assert "ved ikke" not in lowered
        assert "spring over" not in lowered


def test_satisfaction_buttons_show_smiley_before_words(standard: Survey) -> None:
    scale = standard.scales["TILF5"]
    assert scale.label(1).endswith(" Meget tilfreds")
    assert scale.label(1) != "Meget tilfreds"
    assert scale.label(5).endswith("Meget utilfreds")
    assert standard.scales["HYP5"].label(1) == "Altid"  # no smiley there


def test_citizen_and_relative_wording_differ(standard: Survey) -> None:
    assert standard.text_for("M1", Audience.CITIZEN) == "Hvor tilfreds er du med maden?"
    relative = standard.text_for("M1", Audience.RELATIVE)
    assert fill_placeholders(relative, "Anna", "da") == (
        "Hvor tilfreds er du med den mad, Anna får?"
    )
    k5 = standard.text_for("K5", Audience.RELATIVE)
    assert fill_placeholders(k5, standard.name_fallback, "da") == (
        "Ved personalet, hvad der er aftalt om din pårørendes hjælp, også nye medarbejdere?"
    )
    with pytest.raises(ValueError, match="not asked of relatives"):
        standard.text_for("H1", Audience.RELATIVE)


def test_citizen_texts_have_no_placeholders(standard: Survey) -> None:
    for item in standard.items:
        if Audience.CITIZEN in item.audience:
            assert "{" not in standard.text_for(item, Audience.CITIZEN), item.id


def test_comment_prompt_and_warning(standard: Survey) -> None:
    assert standard.comment.prompt == "Er der andet, du vil fortælle os?"
    assert "navne" in standard.comment.warning
    assert "helbred" in standard.comment.warning
    assert standard.comment.max_length == 1000


def test_snapshot_round_trip_gives_the_same_survey(standard: Survey) -> None:
    snapshot = standard.snapshot()
    stored = json.loads(json.dumps(snapshot, ensure_ascii=False))  # as in a JSON column
    again = survey_from_snapshot(stored)
    assert again == standard
    assert again.snapshot() == snapshot
    assert again.text_for("K5", Audience.RELATIVE) == standard.text_for("K5", Audience.RELATIVE)


def test_surveys_are_frozen(standard: Survey) -> None:
    with pytest.raises(ValueError):
        standard.version = 2  # type: ignore[misc]


def test_survey_domain_does_not_pull_in_the_bot_or_the_database() -> None:
    modules = ("schema", "loader", "scoring", "text", "extract", "translation")
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('surveys.questionnaire.' + m)\n"
        "print(sorted(m for m in ('aiogram', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
