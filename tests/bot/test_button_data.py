"""Button data is parsed strictly: whatever a client sends, a payload either reads back
as exactly what the bot could have written, within the ranges that exist, or it does not
parse at all (and gets the polite answer). Property tests with Hypothesis."""

from __future__ import annotations

import string

import pytest
from aiogram.filters.callback_data import CallbackData
from hypothesis import example, given
from hypothesis import strategies as st

from bot.callbacks import (
    MAX_ROW_ID,
    AnswerCb,
    BackCb,
    BeginCb,
    DeleteCb,
    ExportCb,
    FinishCb,
    ascii_number,
)
from surveys.journey import option_position

NUMERIC = [AnswerCb, BackCb, BeginCb, FinishCb, ExportCb, DeleteCb]
ODD_DIGITS = "³²¹⁰٣٠۳१１𝟑੩๓"  # superscripts, Arabic-Indic, Devanagari, full-width, ...

# Text that looks like button data: a known prefix, then fields of digits of every
# script, signs, blanks and letters, sometimes far too many or too long.
field = st.text(alphabet=string.digits + ODD_DIGITS + "+-_ .exs\n\t", max_size=14)
payload = st.builds(
    lambda prefix, fields: ":".join([prefix, *fields]),
    st.sampled_from(["a", "b", "g", "f", "exp", "del", "A", "", "a "]),
    st.lists(field | st.integers(-(2**70), 2**70).map(str), max_size=5),
)


def canonical(cb: CallbackData) -> None:
    for name, value in cb.model_dump().items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            assert 0 <= value <= MAX_ROW_ID, (name, value)
        else:
            assert value in ("x", "s") or (value.isascii() and 1 <= int(value) <= 99)


@pytest.mark.parametrize("kind", NUMERIC, ids=lambda k: k.__name__)
@given(data=payload | st.text(max_size=80))
@example(data="a:1:2:³")
@example(data="a:³:2:1")
@example(data="b:١:0")
@example(data="exp:１:0")
@example(data="g:99999999999999999999")
@example(data="a:-1:0:1")
@example(data="del:yes")
def test_button_data_parses_to_what_the_bot_writes_or_not_at_all(
    kind: type[CallbackData], data: str
) -> None:
    try:
        parsed = kind.unpack(data)
    except (TypeError, ValueError):
        return  # aiogram's filter then does not match: the fallback's polite answer
    canonical(parsed)
    assert parsed.pack() == data  # nothing but the bot's own spelling gets through


@given(st.integers(0, MAX_ROW_ID), st.integers(0, MAX_ROW_ID), st.integers(1, 99))
def test_every_button_the_bot_writes_reads_back(delivery: int, index: int, option: int) -> None:
    for cb in (
        AnswerCb(d=delivery, i=index, v=str(option)),
        AnswerCb(d=delivery, i=index, v="x"),
        BackCb(d=delivery, i=index),
        BeginCb(d=delivery),
        FinishCb(d=delivery, i=index),
        ExportCb(r=delivery, m=index),
    ):
        assert type(cb).unpack(cb.pack()) == cb


@given(st.text(max_size=12), st.integers(1, 11))
@example("³", 5)
@example("٣", 5)
@example("１", 5)
@example("0", 5)
@example("00000000000000000000000000000000000000000003", 5)
def test_an_option_is_an_ascii_position_in_range(choice: str, options: int) -> None:
    position = option_position(choice, options)
    if position is not None:
        assert choice.isascii() and choice.isdigit() and 1 <= position <= options


@given(st.text(alphabet=string.digits + ODD_DIGITS + "+- ", max_size=12))
def test_a_number_in_a_wizard_step_is_ascii(text: str) -> None:
    number = ascii_number(text)
    if number is not None:
        assert str(number) == text and 0 <= number <= MAX_ROW_ID
