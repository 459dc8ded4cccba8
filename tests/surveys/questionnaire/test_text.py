"""Names in relative-facing questions."""

from __future__ import annotations

import pytest

from surveys.questionnaire.text import fill_placeholders, genitive


@pytest.mark.parametrize(
    ("name", "locale", "expected"),
    [
        ("Anna", "da", "Annas"),
        ("Lars", "da", "Lars'"),
        ("Max", "da", "Max'"),
        ("Inez", "da_DK", "Inez'"),
        ("din pårørende", "da", "din pårørendes"),
        ("Anna", "en", "Anna's"),
        ("James", "en_GB", "James'"),
        ("your relative", "en", "your relative's"),
        ("Alex", "en", "Alex's"),
    ],
)
def test_genitive(name: str, locale: str, expected: str) -> None:
    assert genitive(name, locale) == expected


def test_fill_both_placeholders() -> None:
    text = "Ved personalet, hvad der er aftalt om {name_gen} hjælp? Spørg {name}."
    assert fill_placeholders(text, "Lars", "da") == (
        "Ved personalet, hvad der er aftalt om Lars' hjælp? Spørg Lars."
    )


def test_fill_in_english() -> None:
    assert fill_placeholders("Does {name_gen} staff know?", "James", "en") == (
        "Does James' staff know?"
    )


def test_fill_leaves_unknown_braces_alone() -> None:
    # A broken translation must not crash a survey halfway.
    assert fill_placeholders("Hej {navn}", "Anna", "da") == "Hej {navn}"
