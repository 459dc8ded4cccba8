"""The stand-in refuses what Telegram refuses, with Telegram's own error texts.

A real aiogram Bot talks to the stand-in over HTTP; every refusal must arrive as
HTTP 400 with ``{"ok": false, "error_code": 400, "description": "Bad Request: ..."}``,
which aiogram turns into TelegramBadRequest. The HTML cases and their texts are those of
the Bot API server's parser (tdlib, test/message_entities.cpp).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from standin import BotAPIStandIn, parse_formatted

ANNA = 1001


@pytest.fixture
async def standin() -> AsyncIterator[BotAPIStandIn]:
    async with BotAPIStandIn() as server:
        server.person(ANNA, started=True)
        yield server


def buttons(count: int, per_row: int = 1) -> InlineKeyboardMarkup:
    row_count = (count + per_row - 1) // per_row
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=f"{n}", callback_data=f"n:{n}")
                for n in range(r * per_row, min(count, (r + 1) * per_row))
            ]
            for r in range(row_count)
        ]
    )


async def test_an_error_has_telegrams_shape(standin: BotAPIStandIn) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{standin.url}/bot{standin.token}/sendMessage",
            json={"chat_id": ANNA, "text": "x" * 4097},
        ) as response,
    ):
        assert response.status == 400
        assert await response.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: message is too long",
        }


async def test_text_over_4096_characters_is_too_long_also_in_an_edit(
    standin: BotAPIStandIn, bot: Bot
) -> None:
    # Characters, not UTF-16 units: 4096 emoji are accepted (8192 units).
    sent = await bot.send_message(ANNA, "👍" * 4096)
    with pytest.raises(TelegramBadRequest, match=r"Bad Request: message is too long$"):
        await bot.edit_message_text(
            "&amp;" * 4097, chat_id=ANNA, message_id=sent.message_id, parse_mode="HTML"
        )
    # Escaped text counts as what it shows: 4096 "&" written as "&amp;" fit.
    await bot.edit_message_text(
        "&amp;" * 4096, chat_id=ANNA, message_id=sent.message_id, parse_mode="HTML"
    )


@pytest.mark.parametrize("text", ["", "   ", "<b> </b>"])
async def test_a_text_that_shows_nothing_is_empty(bot: Bot, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(ANNA, text, parse_mode="HTML")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("Ærø <3 dig", 'Unsupported start tag "3" at byte offset 6'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<i =x>y</i>", 'Empty attribute name in the tag "i" at byte offset 0'),
        (
            "<i x>y</i>",
            'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 0',
        ),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
        # Stricter than Telegram, as the Bot API's rules ask: a lone "&" must be "&amp;".
        ("Anna & Bo", 'Character "&" is not part of an entity; write "&amp;" at byte offset 5'),
        ("&nbsp;", 'Character "&" is not part of an entity; write "&amp;" at byte offset 0'),
    ],
)
async def test_bad_html_cannot_be_parsed(bot: Bot, text: str, detail: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(ANNA, text, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {detail}"


async def test_bad_html_in_a_caption_cannot_be_parsed(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_document(
            ANNA, BufferedInputFile(b"x", filename="a.csv"), caption="1 <2 3", parse_mode="HTML"
        )
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_document(ANNA, BufferedInputFile(b"x", filename="a.csv"), caption="x" * 1025)


def test_every_tag_and_entity_of_telegrams_html_subset_is_understood() -> None:
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span>'
        '<tg-spoiler>t</tg-spoiler><a href="https://example.dk/?a=1&amp;b=2">a</a>'
        '<code>c</code><pre>p</pre><pre><code class="language-python">x</code></pre>'
        "<blockquote>q</blockquote><blockquote expandable>w</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        " &lt;&gt;&amp;&quot;&#230;&#xF8;&#229; &lt"
    )
    plain, entities = parse_formatted(text, "HTML")
    assert plain == 'bsieunskdptacpxqw👍 <>&"æøå <'
    assert [e["type"] for e in entities] == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
        "strikethrough", "strikethrough", "spoiler", "spoiler", "text_link", "code", "pre",
        "pre", "blockquote", "expandable_blockquote", "custom_emoji",
    ]  # fmt: skip
    assert entities[11]["url"] == "https://example.dk/?a=1&b=2"
    assert entities[14]["language"] == "python"
    assert entities[17] == {
        "type": "custom_emoji",
        "offset": 17,
        "length": 2,  # one emoji, two UTF-16 units
        "custom_emoji_id": "5368324170671202286",
    }


async def test_callback_data_must_be_1_to_64_bytes(bot: Bot) -> None:
    for data in ("", "ø" * 33, "a" * 65):
        with pytest.raises(TelegramBadRequest, match=r"Bad Request: BUTTON_DATA_INVALID$"):
            await bot.send_message(
                ANNA,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="A", callback_data=data)]]
                ),
            )
    await bot.send_message(
        ANNA,
        "x",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="ø" * 32)]]
        ),
    )


async def test_an_inline_keyboard_holds_at_most_100_buttons(
    standin: BotAPIStandIn, bot: Bot
) -> None:
    sent = await bot.send_message(ANNA, "x", reply_markup=buttons(100))
    await bot.send_message(ANNA, "x", reply_markup=buttons(100, per_row=4))
    for markup in (buttons(101), buttons(101, per_row=8)):
        with pytest.raises(TelegramBadRequest, match="Bad Request: reply markup is too long"):
            await bot.send_message(ANNA, "y", reply_markup=markup)
        with pytest.raises(TelegramBadRequest, match="Bad Request: reply markup is too long"):
            await bot.edit_message_reply_markup(
                chat_id=ANNA, message_id=sent.message_id, reply_markup=markup
            )


async def test_a_callback_answer_holds_at_most_200_characters(
    standin: BotAPIStandIn, bot: Bot
) -> None:
    await bot.send_message(ANNA, "x", reply_markup=buttons(2))
    pressed = standin.person(ANNA).press_nowait("0")
    with pytest.raises(TelegramBadRequest, match=r"Bad Request: MESSAGE_TOO_LONG$"):
        await bot.answer_callback_query(pressed, text="x" * 201, show_alert=True)
    # A refused answer leaves the query open, as in Telegram.
    assert await bot.answer_callback_query(pressed, text="æ" * 200, show_alert=True)


@pytest.mark.parametrize(
    ("command", "description", "error"),
    [
        ("Start", "x", "BOT_COMMAND_INVALID"),
        ("a" * 33, "x", "BOT_COMMAND_INVALID"),
        ("", "x", "BOT_COMMAND_INVALID"),
        ("slet-data", "x", "BOT_COMMAND_INVALID"),
        ("start", "", "command description must be non-empty"),
        ("start", "x" * 257, "BOT_COMMAND_DESCRIPTION_INVALID"),
    ],
)
async def test_set_my_commands_refuses_what_telegram_refuses(
    bot: Bot, command: str, description: str, error: str
) -> None:
    with pytest.raises(TelegramBadRequest, match=f"Bad Request: {error}$"):
        await bot.set_my_commands([BotCommand(command=command, description=description)])


async def test_set_my_commands_takes_at_most_100_commands(standin: BotAPIStandIn, bot: Bot) -> None:
    commands = [BotCommand(command=f"c{n}", description="x" * 256) for n in range(101)]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands(commands)
    await bot.set_my_commands(commands[:100])
    assert len(standin.commands()) == 100
