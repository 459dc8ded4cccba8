"""Invitation letters: fresh invites that replace unused ones, a readable page, a QR code
that scans, and the links as CSV for mail merge."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Invite, InviteRole, RoundAudience, Unit
from storage.types import utcnow
from surveys import journey
from surveys.letters import invitations as letters
from surveys.letters.pdf import LetterSender, render_letters_pdf
from surveys.registry import importing, people
from surveys.registry.invites import find_invite
from tests import harness
from tests.letters_pdf import codes_on, links_on, page_texts, scan_qr, type_sizes, web_links_on

BOT = "pejling_test_bot"
PUBLIC_URL = "https://pejling.testrup.dk"
SENDER = LetterSender("Testrup Kommune", "Ældreservice, tlf. 70 11 22 33")
CITIZENS = (
    "unit,first name,external reference,care kind,relatives\n"
    "Plejecenter Åbakken,Anna,B-001,care_home,2\n"
    "Plejecenter Åbakken,Karl,B-002,care_home,0\n"
    "Plejecenter Åbakken,,B-003,care_home,1\n"
)


async def care_home(sessions: async_sessionmaker[AsyncSession]) -> Unit:
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        await importing.import_citizens(session, CITIZENS.encode(), source="borgere.csv")
        await session.commit()
        return unit


async def print_letters(
    sessions: async_sessionmaker[AsyncSession],
    unit: Unit,
    audience: RoundAudience = RoundAudience.BOTH,
) -> letters.LetterBatch:
    async with sessions() as session:
        batch = await harness.print_letters(
            session, unit, audience, days=60, bot_username=BOT, public_url=PUBLIC_URL
        )
        await session.commit()
        return batch


async def valid_invites(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Invite).where(Invite.expires_at > utcnow())
        )
        return int(count or 0)


async def test_printing_again_replaces_the_unused_invites(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    unit = await care_home(sessions)
    first = await print_letters(sessions, unit)
    # Anna (citizen and two relatives), the nameless citizen and one relative, and Karl.
    assert [
        (letter.first_name, letter.role, letter.number, letter.of) for letter in first.letters
    ] == [
        ("Anna", InviteRole.CITIZEN, 1, 1),
        ("Anna", InviteRole.RELATIVE, 1, 2),
        ("Anna", InviteRole.RELATIVE, 2, 2),
        ("Karl", InviteRole.CITIZEN, 1, 1),
        (None, InviteRole.CITIZEN, 1, 1),
        (None, InviteRole.RELATIVE, 1, 1),
    ]
    assert all(
        letter.link == f"https://t.me/{BOT}?start={letter.token}" for letter in first.letters
    )
    assert await valid_invites(sessions) == 6

    again = await print_letters(sessions, unit)
    assert (len(again.letters), again.replaced, again.already_joined) == (6, 6, 0)
    assert await valid_invites(sessions) == 6  # replaced, not piled up
    async with sessions() as session:
        for old in first.letters:
            invite = await find_invite(session, old.token)
            assert invite is not None and invite.expires_at <= utcnow()
        opened = await journey.open_invite(
            session, first.letters[0].token, telegram_user_id=1, chat_id=1
        )
        assert opened.outcome == journey.InviteOutcome.EXPIRED
        # Anna opens her new letter: she is in, so a third printing leaves her out.
        opened = await journey.open_invite(
            session, again.letters[0].token, telegram_user_id=1, chat_id=1
        )
        assert opened.outcome == journey.InviteOutcome.RESPONDENT
        await session.commit()

    relatives_only = await print_letters(sessions, unit, RoundAudience.RELATIVES)
    assert [letter.role for letter in relatives_only.letters] == [InviteRole.RELATIVE] * 3
    third = await print_letters(sessions, unit, RoundAudience.CITIZENS)
    assert [letter.first_name for letter in third.letters] == ["Karl", None]
    assert third.already_joined == 1


async def test_the_links_as_csv_for_mail_merge(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    unit = await care_home(sessions)
    batch = await print_letters(sessions, unit, RoundAudience.RELATIVES)
    data = letters.letters_csv(batch.letters)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel and Word then read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [(r["external_ref"], r["first_name"], r["letter"], r["letters"]) for r in rows] == [
        ("B-001", "Anna", "1", "2"),
        ("B-001", "Anna", "2", "2"),
        ("B-003", "", "1", "1"),
    ]
    assert {r["recipient"] for r in rows} == {"relative"}
    assert [r["link"] for r in rows] == [letter.link for letter in batch.letters]
    assert [r["web_link"] for r in rows] == [
        f"{PUBLIC_URL}/l/{letter.token}" for letter in batch.letters
    ]
    assert [r["code"] for r in rows] == [letter.printed_code for letter in batch.letters]
    assert all(
        re.fullmatch(
            r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}", r["code"]
        )
        for r in rows
    )
    assert {r["code_address"] for r in rows} == {f"{PUBLIC_URL}/kode"}
    assert rows[0]["valid_until"] == batch.letters[0].last_day.isoformat()


def sample_letters(reminder: bool = False) -> list[letters.Letter]:
    expires = utcnow() + timedelta(days=60)
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    return [
        letters.Letter(
            InviteRole.CITIZEN,
            "Plejecenter Åbakken",
            "Anna",
            "B-001",
            1,
            1,
            f"https://t.me/{BOT}?start={token}",
            token,
            expires,
            web_link=f"{PUBLIC_URL}/l/{token}",
            code="K7QM2XPA9D",
            code_address=f"{PUBLIC_URL}/kode",
            reminder=reminder,
        ),
        letters.Letter(
            InviteRole.RELATIVE,
            "Plejecenter Åbakken",
            None,
            "B-003",
            2,
            2,
            f"https://t.me/a_rather_long_municipal_elder_bot?start={token[::-1]}",
            token[::-1],
            expires,
            web_link=f"https://spoergeskema.frederiksberg-og-omegn.dk/l/{token[::-1]}",
            code="0123456789",
            code_address="https://spoergeskema.frederiksberg-og-omegn.dk/kode",
            reminder=reminder,
        ),
    ]


def test_a_letter_is_one_page_in_large_plain_danish_with_a_qr_code_that_scans() -> None:
    sample = sample_letters()
    pdf = render_letters_pdf(sample, SENDER, "da")
    citizen, relative = page_texts(pdf)

    assert citizen.startswith("Testrup Kommune Til Anna Hvordan oplever du hjælpen?")
    for words in [
        "Det tager 2-3 minutter",
        "Det er frivilligt.",
        "Det ændrer ikke noget ved din hjælp",
        "Der står ingen navne i vores rapporter",
        "Åbn kameraet",
        "Tryk på »Svar her«",
        "Du behøver ikke Telegram",
        "»Åbn i Telegram«",
        f"Intet kamera? Gå ind på {PUBLIC_URL}/kode",
        "K7QM-2XPA-9D",
        "/stop og /slet i Telegram",
        "Kontakt Ældreservice, tlf. 70 11 22 33.",
        "Plejecenter Åbakken · ref. B-001",
    ]:
        assert words in citizen, words
    assert links_on(citizen) == []  # no Telegram link: the web page offers both ways
    assert web_links_on(citizen) == [sample[0].web_link]
    assert codes_on(citizen) == ["K7QM-2XPA-9D"]
    assert "Til dig, der er pårørende Hvordan oplever du hjælpen til din pårørende?" in relative
    assert "ref. B-003 · pårørende, brev 2 af 2" in relative
    assert web_links_on(relative) == [sample[1].web_link]
    assert codes_on(relative) == ["0123-4567-89"]

    # Body type is 14 pt or more; only the link and the note for the staff are smaller.
    staff_notes = [
        "Plejecenter Åbakken · ref. B-001",
        "Plejecenter Åbakken · ref. B-003 · pårørende, brev 2 af 2",
    ]
    for page, (letter, note) in enumerate(zip(sample, staff_notes, strict=True)):
        sizes = type_sizes(pdf, page)
        assert [text for size, text in sizes if size < 14] == [letter.web_link, note]
        assert min(size for size, _ in sizes) >= 9
        [code] = scan_qr(pdf, page)
        assert code.text == letter.web_link
        assert code.width_cm >= 6.0
        # The code is printed large, to be read and typed.
        assert [size for size, text in sizes if text == letter.printed_code] == [20]


def test_the_english_letter_comes_from_the_catalog() -> None:
    pdf = render_letters_pdf(sample_letters(), SENDER, "en")
    citizen, relative = page_texts(pdf)
    assert citizen.startswith("Testrup Kommune To Anna How do you find the help you get?")
    assert "Taking part is voluntary." in citizen and "No one can see what you answered" in citizen
    assert "Contact Ældreservice, tlf. 70 11 22 33." in citizen
    assert "How do you find the help your relative gets?" in relative
    assert "relative, letter 2 of 2" in relative


def test_long_names_and_contacts_still_give_one_page_per_letter() -> None:
    sender = LetterSender(
        "Frederiksberg og Omegns Kommune",
        "Ældre- og Sundhedsforvaltningen, Visitationen, telefon 38 21 00 00 (hverdage 9-15)",
    )
    for lang in ("da", "en"):
        pages = page_texts(render_letters_pdf(sample_letters(), sender, lang))
        assert len(pages) == 2
        assert all(sender.contact in page for page in pages)


def test_a_reminder_letter_says_so_and_carries_the_same_link_and_code() -> None:
    sample = sample_letters(reminder=True)
    pdf = render_letters_pdf(sample, SENDER, "da")
    citizen, relative = page_texts(pdf)
    assert "Husk at svare: hvordan oplever du hjælpen?" in citizen
    assert "Vi har ikke fået dine svar endnu" in citizen
    assert "Linket og koden er de samme som i det første brev" in citizen
    assert web_links_on(citizen) == [sample[0].web_link]
    assert codes_on(citizen) == ["K7QM-2XPA-9D"]
    assert "Husk at svare: hvordan oplever du hjælpen til din pårørende?" in relative
    [code] = scan_qr(pdf, 0)
    assert code.text == sample[0].web_link
