"""From the municipality's spreadsheet to a finished survey: import 200 citizens, print
their letters, scan a QR code off the page and answer the survey over the Bot API."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from storage.models import (
    Audience,
    Citizen,
    Delivery,
    DeliveryStatus,
    InviteRole,
    Respondent,
    RoundAudience,
    RoundParticipant,
)
from surveys.letters.pdf import LetterSender, render_letters_pdf
from surveys.registry import importing, people
from tests.bot.test_cli import pejling
from tests.harness import BOT_USERNAME, LINK_SECRET, TOKEN, BotHarness, print_letters
from tests.letters_pdf import codes_on, page_texts, scan_qr, web_links_on

NAMES = ["Anna", "Karl", "Inge", "Bent", "Åse", "Jørgen", "Kirsten", "Poul"]
BAD_ROWS = {
    # after data row n: (the row, the reason the import gives)
    20: ("Plejecenter Åbakken;Ida;120456-1234;plejecenter;1", "looks like a CPR number"),
    60: (
        "Plejecenter Solbakken;Ida;AAB-9001;plejecenter;1",
        "unknown unit 'Plejecenter Solbakken'",
    ),
    110: ("Hjemmeplejen Nord;Ida;AAB-9002;plejebolig;1", "does not match the unit"),
    150: ("Hjemmeplejen Nord;Ida;AAB-0007;hjemmepleje;1", "'AAB-0007' is also on line 8"),
    190: ("Hjemmeplejen Nord;Ida;AAB-9003;hjemmepleje;mange", "number of relatives"),
}


CARE_HOME_CITIZENS = 30  # of 200; the care home's letters are printed and read back


def municipality_csv() -> tuple[bytes, dict[int, str]]:
    """200 citizens in two units, as Danish Excel saves them, with five bad rows."""
    lines = ["Enhed;Fornavn;Reference;Plejeform;Antal pårørende"]
    bad_lines = {}
    for n in range(1, 201):
        care_home = n <= CARE_HOME_CITIZENS
        unit = "Plejecenter Åbakken" if care_home else "Hjemmeplejen Nord"
        kind = "plejecenter" if care_home else "hjemmepleje"
        lines.append(f"{unit};{NAMES[n % len(NAMES)]};AAB-{n:04d};{kind};{n % 3}")
        if n in BAD_ROWS:
            row, reason = BAD_ROWS[n]
            lines.append(row)
            bad_lines[len(lines)] = reason
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode(), bad_lines


async def test_import_print_scan_and_answer(harness: BotHarness) -> None:
    home = await harness.unit("Plejecenter Åbakken", "care_home")
    await harness.unit("Hjemmeplejen Nord", "home_care")
    data, bad_lines = municipality_csv()

    async with harness.sessions() as session:
        refused = await importing.import_citizens(session, data, source="borgere.csv")
        await session.commit()
    assert not refused.written
    assert [bad.line for bad in refused.bad_rows] == list(bad_lines)
    for bad in refused.bad_rows:
        assert bad_lines[bad.line] in bad.reason
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 0

    async with harness.sessions() as session:
        result = await importing.import_citizens(
            session, data, source="borgere.csv", skip_bad_rows=True
        )
        await session.commit()
    assert (result.added, len(result.bad_rows)) == (200, 5)

    async with harness.sessions() as session:
        unit = await people.find_unit(session, str(home))
        batch = await print_letters(
            session, unit, RoundAudience.BOTH, days=60, public_url="https://pejling.testrup.dk"
        )
        await session.commit()
    relatives = [letter for letter in batch.letters if letter.role == InviteRole.RELATIVE]
    assert len(batch.letters) - len(relatives) == CARE_HOME_CITIZENS
    assert len(relatives) == sum(n % 3 for n in range(1, CARE_HOME_CITIZENS + 1))

    settings = harness.settings
    pdf = render_letters_pdf(batch.letters, LetterSender(settings.municipality, settings.contact))
    pages = page_texts(pdf)
    assert len(pages) == len(batch.letters)  # one page per letter
    assert [web_links_on(page) for page in pages] == [[letter.web_link] for letter in batch.letters]
    assert [codes_on(page) for page in pages] == [[letter.printed_code] for letter in batch.letters]
    assert all(page.startswith("Testrup Kommune") for page in pages)
    assert all("Kontakt Ældreservice, tlf. 70 11 22 33." in page for page in pages)

    # A daughter points her phone at the first relative's letter.
    page = next(i for i, letter in enumerate(batch.letters) if letter.role == InviteRole.RELATIVE)
    [code] = scan_qr(pdf, page)
    assert code.text == batch.letters[page].web_link
    name = batch.letters[page].first_name
    assert f"Til dig, der er pårørende til {name}" in pages[page]
    ref = re.search(r"ref\. (AAB-\d{4})", pages[page])
    assert ref is not None

    await harness.open_round(home, RoundAudience.BOTH)
    daughter = harness.person(7001)
    # The landing page's "Åbn i Telegram" carries the same token to the bot.
    [info] = await daughter.send("/start " + code.text.split("/l/", 1)[1])
    assert "Testrup Kommunes automatiske spørgeskema-service" in info.text
    await daughter.press("Ja, jeg vil gerne være med")
    assert daughter.last.text.startswith("Spørgsmål 1 af ")
    assert f"Har {name} nogen at tale med" in daughter.last.text
    while daughter.last.text.startswith("Spørgsmål"):
        await daughter.press(daughter.buttons()[0])
    await daughter.press("Nej tak, afslut")
    assert "Tak for dine svar" in daughter.last.text

    async with harness.sessions() as session:
        respondent, citizen = (
            await session.execute(
                select(Respondent, Citizen).join(Citizen, Citizen.id == Respondent.citizen_id)
            )
        ).one()
        delivery = (await session.execute(select(Delivery))).scalar_one()
        took_part = await session.get(RoundParticipant, (delivery.round_id, respondent.id))
    assert (respondent.kind, citizen.external_ref) == (Audience.RELATIVE, ref.group(1))
    assert took_part is not None and delivery.unit_id == citizen.unit_id
    # Finished, in an anonymous round: the answers no longer point at the person.
    assert (delivery.status, delivery.respondent_id) == (DeliveryStatus.COMPLETED, None)


async def test_the_commands_import_refuse_bad_files_and_print_letters(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'pejling.db'}",
        "BOT_USERNAME": BOT_USERNAME,
        "BOT_TOKEN": TOKEN,
        "MUNICIPALITY": "Testrup Kommune",
        "CONTACT": "Ældreservice, tlf. 70 11 22 33",
        "PUBLIC_URL": "https://pejling.testrup.dk/",
        "LINK_SECRET": LINK_SECRET.decode(),
    }
    units = tmp_path / "enheder.csv"
    units.write_text("navn;plejeform\nPlejecenter Åbakken;plejecenter\n", encoding="utf-8-sig")
    citizens = tmp_path / "borgere.csv"
    citizens.write_text(
        "unit,first name,external reference,care kind,relatives\n"
        "Plejecenter Åbakken,Anna,B-1,care_home,1\n"
        "Plejecenter Åbakken,Karl,0101501234,care_home,0\n",
        encoding="utf-8",
    )

    added = await pejling("import", "units", str(units), env=env)
    assert (added.code, added.out.strip()) == (0, "units: 1 added, 0 unchanged"), added.err

    refused = await pejling("import", "citizens", str(citizens), env=env)
    assert refused.code == 2
    assert refused.err.splitlines() == [
        f"line 3: {importing.CPR_REASON}",
        f"pejling: {citizens}: 1 bad row(s); nothing was imported "
        "(correct them, or import the other rows with --skip-bad-rows)",
    ]

    skipped = await pejling("import", "citizens", str(citizens), "--skip-bad-rows", env=env)
    assert skipped.code == 0, skipped.err
    assert skipped.out.startswith("citizens: 1 added")

    pdf = tmp_path / "breve.pdf"
    printed = await pejling(
        "invite",
        "letters",
        "--unit",
        "Plejecenter Åbakken",
        "--lang",
        "en",
        "-o",
        str(pdf),
        env=env,
    )
    assert printed.code == 0, printed.err
    assert f"{pdf}: 2 letters for Plejecenter Åbakken: 1 for citizens, 1 for relatives" in (
        printed.err
    )
    citizen_page, relative_page = page_texts(pdf.read_bytes())
    assert citizen_page.startswith("Testrup Kommune To Anna How do you find the help you get?")
    assert "To you, a relative of Anna" in relative_page

    merged = await pejling(
        "invite", "letters", "--unit", "1", "--format", "csv", "-o", "-", env=env
    )
    assert merged.code == 0, merged.err
    rows = merged.out.lstrip("\ufeff").splitlines()
    assert rows[0] == (
        "unit;external_ref;first_name;recipient;letter;letters;link;web_link;code;"
        "code_address;valid_until"
    )
    assert all(";https://pejling.testrup.dk/l/" in row for row in rows[1:])
    assert all(row.split(";")[9] == "https://pejling.testrup.dk/kode" for row in rows[1:])
    assert len(rows) == 3
    # Printing again replaced the letters in the PDF: their links no longer work.
    assert "2 earlier unused invites no longer work" in merged.err

    # Without LINK_SECRET no letter can be printed: its links are derived from it.
    refused = await pejling(
        "invite", "letters", "--unit", "1", "-o", "-", env={**env, "LINK_SECRET": ""}
    )
    assert refused.code != 0 and "LINK_SECRET is not set" in refused.err
