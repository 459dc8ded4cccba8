"""Rounds at scale: the outbox sender within Telegram's limits, reminders, staff commands."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select

from bot.callbacks import RoundCb
from standin import BotAPIStandIn
from storage.models import (
    Delivery,
    DeliveryStatus,
    InviteRole,
    Respondent,
    Round,
    RoundAudience,
    TelegramAccount,
)
from surveys.clock import DANISH_TIME
from surveys.fieldwork import care_events, rounds
from surveys.fieldwork.outbox import ContactHours
from tests.harness import BotHarness

INVITATION = "nyt spørgeskema"
REMINDER = "Husk spørgeskemaet"


def invitations(standin: BotAPIStandIn, text: str = INVITATION) -> Counter[int]:
    """How many messages containing ``text`` each chat received."""
    counts: Counter[int] = Counter()
    for call in standin.calls_of("sendMessage"):
        if call.ok and text in str(call.params.get("text", "")):
            counts[int(call.params["chat_id"])] += 1
    return counts


async def statuses(harness: BotHarness) -> Counter[str]:
    async with harness.sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return Counter(dict(rows.all()))


async def coordinator(harness: BotHarness, user_id: int) -> object:
    token = await harness.invite(InviteRole.COORDINATOR)
    person = harness.person(user_id)
    await person.send(f"/start {token}")
    return person


async def test_a_round_to_500_with_429s_and_blocked_people_invites_each_once(
    harness: BotHarness,
) -> None:
    unit = await harness.unit("Hjemmeplejen Vest", "home_care")
    people = await harness.crowd(unit, 500, first_user_id=100_000)
    blocked = people[::50]  # 10 people, 2 %
    for user_id in blocked:
        harness.standin.block(user_id, notify=False)
    harness.standin.fail_fraction("sendMessage", 0.10, status=429, retry_after=1, seed=7)
    round_id, invited = await harness.open_round(unit, RoundAudience.RELATIVES)
    assert invited == 500

    report = await harness.sender().run_once()
    harness.standin.fail_fraction("sendMessage", 0)

    got = invitations(harness.standin)
    reachable = set(people) - set(blocked)
    assert set(got) == reachable
    assert set(got.values()) == {1}  # exactly once each, despite the 429s
    assert report.retried >= 40 and report.gone == len(blocked)
    assert await statuses(harness) == Counter({DeliveryStatus.SENT: 490, DeliveryStatus.FAILED: 10})
    async with harness.sessions() as session:
        stopped = await session.scalar(
            select(func.count())
            .select_from(TelegramAccount)
            .where(TelegramAccount.stopped_at.is_not(None))
        )
    assert stopped == len(blocked)

    boss = await coordinator(harness, 1)
    [reply] = await boss.send("/status")  # type: ignore[attr-defined]
    assert f"Runde {round_id}: pårørende i Hjemmeplejen Vest" in reply.text
    assert "Inviteret 500 · sendt 490 · i gang 0 · færdige 0 · fejlet 10" in reply.text

    # Running the sender again (a second tick, a restart) sends nothing more.
    assert (await harness.sender().run_once()).sent == 0
    assert sum(invitations(harness.standin).values()) == 490


async def test_invitations_wait_for_contact_hours(harness: BotHarness) -> None:
    unit = await harness.unit()
    [user] = await harness.crowd(unit, 1, first_user_id=200_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    harness.settings.contact_hours = ContactHours(9, 19)
    # Tomorrow night and the morning after, in Danish time: inside the round's 14 days
    # whatever day the test runs (a fixed date falls before the round once it has passed).
    tomorrow = datetime.now(DANISH_TIME).date() + timedelta(days=1)
    night = datetime.combine(tomorrow, time(22, 30), DANISH_TIME)
    report = await harness.sender(lambda: night.astimezone(UTC)).run_once()
    assert report.outside_hours and report.sent == 0
    morning = datetime.combine(tomorrow + timedelta(days=1), time(9, 5), DANISH_TIME)
    assert await harness.send_invitations(lambda: morning.astimezone(UTC)) == 1
    assert invitations(harness.standin)[user] == 1


async def test_reminders_reach_exactly_the_unfinished_and_stop_at_closing_and_care_events(
    harness: BotHarness,
) -> None:
    unit = await harness.unit()
    finished, unfinished, stopped, left = await harness.crowd(unit, 4, first_user_id=300_000)
    await harness.open_round(unit, RoundAudience.RELATIVES, days=10)
    start = datetime.now(UTC)
    clock = [start]

    def now() -> datetime:
        return clock[0]

    assert await harness.send_invitations(now) == 4
    done = harness.standin.person(finished)
    await done.press("Start spørgeskemaet")
    for _ in range(7):
        await done.press("Spring over")
    await done.press("Nej tak, afslut")
    half = harness.standin.person(unfinished)
    await half.press("Start spørgeskemaet")
    await half.press("Altid")
    await harness.standin.person(stopped).send("/stop")
    async with harness.sessions() as session:
        citizen_id = await session.scalar(
            select(Respondent.citizen_id)
            .join(TelegramAccount, TelegramAccount.id == Respondent.account_id)
            .where(TelegramAccount.telegram_user_id == left)
        )
        assert citizen_id is not None
        await care_events.citizen_left(session, citizen_id, "died")
        await session.commit()

    clock[0] = start + timedelta(days=2, hours=23)
    assert await harness.send_invitations(now) == 0
    clock[0] = start + timedelta(days=3, minutes=1)
    assert await harness.send_invitations(now) == 1
    assert invitations(harness.standin, REMINDER) == Counter({unfinished: 1})
    # The reminder brings the person back to where they stopped.
    await half.press("Fortsæt spørgeskemaet")
    assert half.last.text.startswith("Spørgsmål 2 af 7")

    clock[0] = start + timedelta(days=7, minutes=1)
    assert await harness.send_invitations(now) == 1
    clock[0] = start + timedelta(days=9, minutes=1)
    assert await harness.send_invitations(now) == 0  # at most two
    assert invitations(harness.standin, REMINDER) == Counter({unfinished: 2})


async def test_no_reminder_after_the_round_closes(harness: BotHarness) -> None:
    unit = await harness.unit()
    [user] = await harness.crowd(unit, 1, first_user_id=400_000)
    await harness.open_round(unit, RoundAudience.RELATIVES, days=2)
    start = datetime.now(UTC)
    assert await harness.send_invitations(lambda: start) == 1
    later = start + timedelta(days=3, minutes=1)
    assert await harness.send_invitations(lambda: later) == 0
    assert invitations(harness.standin, REMINDER)[user] == 0
    async with harness.sessions() as session:  # the scheduler's housekeeping, at that time
        assert await rounds.close_expired_rounds(session, now=later) == 1
        await session.commit()
    answer = await harness.standin.person(user).press("Start spørgeskemaet")
    assert "lukket" in (answer.text or "")


async def test_staff_start_a_round_with_buttons_for_their_own_units(harness: BotHarness) -> None:
    home = await harness.unit("Plejecenter Åbakken", "care_home")
    other = await harness.unit("Plejecenter Bakkely", "care_home")
    await harness.crowd(home, 3, first_user_id=500_000)
    token = await harness.invite(InviteRole.STAFF, unit_id=home)
    nurse = harness.person(501)
    [welcome] = await nurse.send(f"/start {token}")
    assert "medarbejder ved Plejecenter Åbakken" in welcome.text

    [menu] = await nurse.send("/runde")
    assert nurse.buttons(menu) == ["☐ Plejecenter Åbakken", "Videre ➡️", "Annullér"]
    forged = await nurse.press_data(
        RoundCb(step="unit", value=str(other)).pack(), message_id=menu.message_id
    )
    assert "hører ikke til dig" in (forged.text or "")
    await nurse.press("☐ Plejecenter Åbakken")
    await nurse.press("Videre ➡️")
    await nurse.press(nurse.buttons()[0])  # the standard survey
    await nurse.press("pårørende")
    await nurse.press(nurse.buttons()[1])  # in two weeks
    assert nurse.last.text.startswith("Sendes til 3 pårørende i Plejecenter Åbakken, lukker ")
    await nurse.press("✅ Start runden")
    assert "er startet. 3 inviteres nu" in nurse.last.text
    async with harness.sessions() as session:
        round_ = (await session.execute(select(Round))).scalar_one()
    assert round_.started_by.startswith("staff:") and round_.audience == RoundAudience.RELATIVES
    assert await harness.send_invitations() == 3


async def test_a_closing_date_pressed_before_the_audience_is_refused_politely(
    harness: BotHarness,
) -> None:
    # Found by the fuzz: a closing-date button of an old or forged screen, pressed on a
    # draft without its audience, crashed the summary and left the press spinning.
    home = await harness.unit("Plejecenter Åbakken", "care_home")
    token = await harness.invite(InviteRole.STAFF, unit_id=home)
    nurse = harness.person(502)
    await nurse.send(f"/start {token}")
    [menu] = await nurse.send("/runde")
    await nurse.press("☐ Plejecenter Åbakken")
    answer = await nurse.press_data(
        RoundCb(step="closes", value="14").pack(), message_id=menu.message_id
    )
    assert answer.text == "Runden er ikke færdig. Skriv /runde for at begynde forfra."
    async with harness.sessions() as session:
        assert (await session.execute(select(Round))).first() is None


async def test_only_staff_may_start_rounds_or_see_status(harness: BotHarness) -> None:
    unit = await harness.unit()
    citizen = await harness.citizen(unit)
    token = await harness.invite(InviteRole.RELATIVE, citizen_id=citizen)
    relative = harness.person(601)
    await relative.send(f"/start {token}")
    stranger = harness.person(602)
    for person in (relative, stranger):
        for command in ("/runde", "/status"):
            [reply] = await person.send(command)
            assert "kun for personale" in reply.text
    target = relative.messages[0].message_id
    for step, value in (("start", ""), ("unit", str(unit)), ("closes", "14")):
        answer = await relative.press_data(
            RoundCb(step=step, value=value).pack(), message_id=target
        )
        assert answer.show_alert and "kun for personale" in (answer.text or "")
    async with harness.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Round)) == 0


async def test_one_person_in_two_rounds_gets_the_two_invitations_a_second_apart(
    harness: BotHarness,
) -> None:
    unit = await harness.unit()
    [user] = await harness.crowd(unit, 1, first_user_id=950_000)
    await harness.open_round(unit, RoundAudience.RELATIVES)
    await harness.open_round(unit, RoundAudience.BOTH)
    assert await harness.send_invitations() == 2
    stamps = [
        call.timestamp
        for call in harness.standin.calls_of("sendMessage")
        if call.ok and call.params.get("chat_id") == user
    ]
    # Telegram allows about one message a second within a chat.
    assert len(stamps) == 2 and stamps[1] - stamps[0] >= 0.99
