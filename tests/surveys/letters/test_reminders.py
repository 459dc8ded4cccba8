"""Printed reminders: only the people of a round without Telegram who have not finished,
and letters never opened, with the same link and code as their first letter."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import RoundAudience
from surveys import journey
from surveys.errors import PejlingError
from surveys.fieldwork import rounds
from surveys.letters import invitations as letters
from surveys.letters.pdf import LetterSender, render_letters_pdf
from surveys.letters.reminders import reminder_letters
from surveys.registry import people
from tests.harness import (
    BOT_USERNAME,
    LINK_SECRET,
    answer_on_the_web,
    print_letters,
    standard_round,
)
from tests.letters_pdf import codes_on, page_texts, scan_qr, web_links_on

URL = "https://pejling.testrup.dk"


async def test_reminders_go_only_to_the_unfinished_without_telegram(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    names = ["Anna", "Bent", "Carl", "Dora", "Erik"]
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        for name in names:
            citizen = await people.add_citizen(session, unit, name)
            citizen.relatives_wanted = 1
        round_, _ = await standard_round(session, [unit], RoundAudience.RELATIVES)
        batch = await print_letters(session, unit, public_url=URL)
        await session.commit()
    first = {letter.first_name: letter for letter in batch.letters}

    async def on_the_web(name: str, answers: int, finish: bool = False) -> int:
        async with sessions() as session:
            on_the_web = await answer_on_the_web(session, first[name].token, answers, finish=finish)
            await session.commit()
            return on_the_web.respondent_id

    await on_the_web("Anna", 2)  # began on the web: reminded
    await on_the_web("Bent", 7, finish=True)  # finished (anonymous round): not reminded
    async with sessions() as session:  # Carl's relative uses Telegram: reminded there
        opened = await journey.open_invite(
            session, first["Carl"].token, telegram_user_id=555, chat_id=555
        )
        assert opened.outcome == journey.InviteOutcome.RESPONDENT
        await session.commit()
    erik = await on_the_web("Erik", 1)
    async with sessions() as session:  # Erik's relative said stop: not reminded
        await journey.web_stop(session, erik)
        await session.commit()
    # Dora's relative never opened the letter: reminded.

    async with sessions() as session:
        reminders = await reminder_letters(
            session, round_.id, bot_username=BOT_USERNAME, secret=LINK_SECRET, public_url=URL
        )
    assert [letter.first_name for letter in reminders.letters] == ["Anna", "Dora"]
    assert (reminders.started, reminders.never_opened) == (1, 1)
    for reminder in reminders.letters:
        original = first[reminder.first_name]
        assert reminder.reminder
        assert (reminder.token, reminder.code, reminder.web_link) == (
            original.token,
            original.code,
            original.web_link,
        )
    pdf = render_letters_pdf(reminders.letters, LetterSender("Testrup Kommune", "tlf. 70 11 22 33"))
    pages = page_texts(pdf)
    assert all("Husk at svare" in page for page in pages)
    assert [codes_on(page) for page in pages] == [
        [first["Anna"].printed_code],
        [first["Dora"].printed_code],
    ]
    assert web_links_on(pages[0]) == [first["Anna"].web_link]
    [code] = scan_qr(pdf, 1)
    assert code.text == first["Dora"].web_link
    # The reminder's link leads to the same person, where they stopped.
    async with sessions() as session:
        _, anna = await journey.open_web_code(session, reminders.letters[0].code, client="x")
        assert anna is not None
        step = await journey.web_current(session, anna.respondent_id)
    assert isinstance(step, journey.Question) and step.index == 2
    csv = letters.letters_csv(reminders.letters).decode("utf-8-sig")
    assert first["Dora"].printed_code in csv and first["Anna"].web_link in csv

    async with sessions() as session:
        await rounds.close_round(session, round_.id)
        await session.commit()
        with pytest.raises(PejlingError, match="closed"):
            await reminder_letters(
                session,
                round_.id,
                bot_username=BOT_USERNAME,
                secret=LINK_SECRET,
                public_url=URL,
            )
