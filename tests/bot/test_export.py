"""/eksport over HTTP: coordinators get every unit, staff their own, anyone else a polite no."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from bot.callbacks import ExportCb
from storage.models import InviteRole
from storage.types import utcnow
from tests.bot.test_bad_input import joined
from tests.harness import BotHarness
from tests.surveys import indicator_data as data

ANSWERS = {"H1": 1, "E1": 4, "E2": 1, "E3": 1, "E4": 1, "M1": 1, "K2": 1, "V1": 1, "A1": 2}


async def two_units_and_rounds(harness: BotHarness) -> tuple[int, int, int, int]:
    """Units A and B in a round now and one before; a later round for B alone."""
    async with harness.sessions() as session:
        a = await data.unit(session, "Plejecenter A")
        b = await data.unit(session, "Plejecenter B")
        before = await data.round_(session, [a, b], opens=utcnow() - timedelta(days=40))
        await data.people(session, before, a, 12, {"M1": 3})
        await data.people(session, before, b, 12, {"M1": 3})
        now = await data.round_(session, [a, b], opens=utcnow() - timedelta(days=10))
        await data.people(session, now, a, 12, ANSWERS, comment="Søde medarbejdere")
        await data.people(session, now, b, 15, ANSWERS)
        only_b = await data.round_(session, [b], opens=utcnow() - timedelta(days=5))
        await data.people(session, only_b, b, 3, ANSWERS)
        await session.commit()
        return a.id, b.id, now.id, only_b.id


def sheet_text(xlsx: bytes, sheet: str) -> str:
    book = load_workbook(io.BytesIO(xlsx))
    return " ".join(
        str(value) for row in book[sheet].iter_rows(values_only=True) for value in row if value
    )


async def test_coordinators_and_staff_get_the_files_for_what_they_may_see(
    harness: BotHarness,
) -> None:
    a, _, round_id, only_b = await two_units_and_rounds(harness)

    coordinator = harness.person(9101)
    await coordinator.send("/start " + await harness.invite(InviteRole.COORDINATOR))
    [menu] = await coordinator.send("/eksport")
    assert "Vælg en runde eller en periode" in menu.text
    buttons = coordinator.buttons(menu)
    assert buttons[0].startswith(f"Runde {only_b}, ")
    assert buttons[-2:] == ["Seneste 3 måneder", "Seneste 12 måneder"]
    round_button = next(b for b in buttons if b.startswith(f"Runde {round_id}, "))
    await coordinator.press(round_button, expect=8, timeout=30)
    assert f"Resultater for Runde {round_id}" in coordinator.messages[-8].text
    names = [m.document.filename for m in coordinator.documents if m.document]
    stem = f"pejling-runde-{round_id}"
    assert names[:3] == [f"{stem}.xlsx", f"{stem}.csv", f"{stem}-tema-ensomhed.png"]
    assert len(names) == 7
    files = {m.document.filename: m.document.data for m in coordinator.documents if m.document}
    overview = sheet_text(files[f"{stem}.xlsx"], "Overblik")
    assert "Plejecenter A" in overview and "Plejecenter B" in overview
    assert "Søde medarbejdere" in sheet_text(files[f"{stem}.xlsx"], "Kommentarer")
    assert files[f"{stem}.csv"].startswith(b"\xef\xbb\xbfperiode;")

    await coordinator.press("Seneste 3 måneder", expect=8, timeout=30)
    newest = coordinator.documents[-7].document
    assert newest is not None and newest.filename is not None
    assert newest.filename.startswith("pejling-") and "-til-" in newest.filename

    staff = harness.person(9102)
    await staff.send("/start " + await harness.invite(InviteRole.STAFF, unit_id=a))
    [menu] = await staff.send("/eksport")
    assert not any(b.startswith(f"Runde {only_b}, ") for b in staff.buttons(menu))
    await staff.press(
        next(b for b in staff.buttons(menu) if b.startswith(f"Runde {round_id}, ")),
        expect=8,
        timeout=30,
    )
    xlsx = next(m.document.data for m in staff.documents if m.document)
    overview = sheet_text(xlsx, "Overblik")
    assert "Plejecenter A" in overview and "Hele kommunen" in overview
    assert "Plejecenter B" not in overview
    comments = sheet_text(xlsx, "Kommentarer")
    assert "Søde medarbejdere" not in comments and "kun for kvalitetskoordinatorer" in comments

    # A forged press for a round without the staff member's units is refused.
    sent = len(staff.documents)
    answer = await staff.press_data(ExportCb(r=only_b, m=0).pack(), message_id=menu.message_id)
    assert answer.show_alert and answer.text == "Den runde kan du ikke hente resultater for."
    assert len(staff.documents) == sent


async def test_anyone_else_is_refused_politely_also_with_a_forged_button(
    harness: BotHarness,
) -> None:
    _, _, round_id, _ = await two_units_and_rounds(harness)
    relative = await joined(harness, 9201)
    [reply] = await relative.send("/eksport")
    assert reply.text.startswith("Resultater kan kun hentes af medarbejdere")
    answer = await relative.press_data(
        ExportCb(r=round_id, m=0).pack(), message_id=reply.message_id
    )
    assert answer.show_alert and "kun hentes af medarbejdere" in (answer.text or "")
    assert relative.documents == []

    stranger = harness.person(9202)
    [reply] = await stranger.send("/eksport")
    assert reply.text.startswith("Resultater kan kun hentes af medarbejdere")
    answer = await stranger.press_data(ExportCb(r=0, m=3).pack(), message_id=reply.message_id)
    assert answer.show_alert and stranger.documents == []
