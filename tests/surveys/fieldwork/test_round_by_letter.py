"""Starting a round reaches people without Telegram by letter, on SQLite and PostgreSQL.

One care home. Anna's and Carl's relatives hold letters: one joined in Telegram, one
answers only on the web, eight more only on the web, one said stop on the web, one opened
the letter on the web and then in Telegram (both accounts), one opened it on the web but
has not accepted the information yet. Bo's relative accepted on the web, then Bo moved
out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.enums import Audience, CitizenStatus
from storage.models import (
    Delivery,
    DeliveryStatus,
    Invite,
    Round,
    RoundAudience,
    RoundParticipant,
)
from storage.types import utcnow
from surveys.fieldwork import rounds
from surveys.fieldwork.care_events import citizen_left
from surveys.fieldwork.outbox import Kind, claim_due, depth
from surveys.indicators import FigureKey, FigureKind, compute_report, round_selection
from surveys.journey import (
    Finished,
    InviteOutcome,
    Question,
    open_web_link,
    web_accept_information,
    web_answer,
    web_comment,
    web_current,
    web_stop,
)
from surveys.journey.onboarding import accept_information, open_invite
from surveys.letters.reminders import reminder_letters
from surveys.registry import people
from surveys.registry.invites import hash_token
from tests.bot.test_rounds import REMINDER, invitations
from tests.harness import (
    BOT_USERNAME,
    LINK_SECRET,
    PUBLIC_URL,
    BotHarness,
    print_letters,
    standard_round,
)

TELEGRAM_USER, BOTH_USER = 710_001, 710_002
INVITATION = "nyt spørgeskema"
RESPONSE = FigureKey(Audience.RELATIVE, FigureKind.RESPONSE)


@dataclass(frozen=True)
class People:
    """The respondent ids (and web-only people's letter tokens) of the unit."""

    telegram: int
    web: int
    web_token: str
    more_web: list[int]
    more_web_tokens: list[str]
    stopped: int
    both: int
    not_informed: int
    not_informed_token: str
    moved: int


async def _web_person(session: AsyncSession, token: str, *, informed: bool = True) -> int:
    _, visitor = await open_web_link(session, token)
    assert visitor is not None
    if informed:
        assert await web_accept_information(session, visitor.respondent_id) is None  # no round
    return visitor.respondent_id


async def _telegram_person(
    session: AsyncSession, token: str, user_id: int, harness: BotHarness
) -> int:
    harness.standin.person(user_id, started=True)
    result = await open_invite(session, token, telegram_user_id=user_id, chat_id=user_id)
    assert result.account is not None
    if result.needs_information:
        await accept_information(session, result.account)
    return await _respondent_of(session, token)


async def _respondent_of(session: AsyncSession, token: str) -> int:
    respondent = await session.scalar(
        select(Invite.respondent_id).where(Invite.token_hash == hash_token(token))
    )
    assert respondent is not None
    return respondent


async def _unit_of_people(harness: BotHarness) -> People:
    async with harness.sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        anna = await people.add_citizen(session, unit, "Anna")
        anna.relatives_wanted = 10  # the most the citizens file allows
        bo = await people.add_citizen(session, unit, "Bo")
        bo.relatives_wanted = 1
        carl = await people.add_citizen(session, unit, "Carl")
        carl.relatives_wanted = 3
        batch = await print_letters(session, unit)
        await session.commit()
    tokens = [letter.token for letter in batch.letters if letter.first_name in ("Anna", "Carl")]
    [bo_token] = [letter.token for letter in batch.letters if letter.first_name == "Bo"]
    assert len(tokens) == 13
    async with harness.sessions() as session:
        telegram = await _telegram_person(session, tokens[0], TELEGRAM_USER, harness)
        web = await _web_person(session, tokens[1])
        more_web = [await _web_person(session, token) for token in tokens[2:10]]
        stopped = await _web_person(session, tokens[10])
        await web_stop(session, stopped)
        # Both: accepted on the web, then opened the same letter in Telegram.
        both = await _web_person(session, tokens[11])
        assert await _telegram_person(session, tokens[11], BOTH_USER, harness) == both
        not_informed = await _web_person(session, tokens[12], informed=False)
        moved = await _web_person(session, bo_token)
        await citizen_left(session, bo.id, CitizenStatus.MOVED)
        await session.commit()
    return People(
        telegram=telegram,
        web=web,
        web_token=tokens[1],
        more_web=more_web,
        more_web_tokens=tokens[2:10],
        stopped=stopped,
        both=both,
        not_informed=not_informed,
        not_informed_token=tokens[12],
        moved=moved,
    )


def _invitations(harness: BotHarness) -> Counter[int]:
    counts: Counter[int] = Counter()
    for call in harness.standin.calls_of("sendMessage"):
        if call.ok and INVITATION in str(call.params.get("text", "")):
            counts[int(call.params["chat_id"])] += 1
    return counts


async def _reminded(harness: BotHarness, round_id: int) -> tuple[set[str], int]:
    async with harness.sessions() as session:
        batch = await reminder_letters(
            session, round_id, bot_username=BOT_USERNAME, secret=LINK_SECRET, public_url=PUBLIC_URL
        )
    return {letter.token for letter in batch.letters}, batch.started


async def test_a_round_reaches_web_only_people_by_letter_and_telegram_users_by_the_sender(
    harness: BotHarness,
) -> None:
    who = await _unit_of_people(harness)
    web_only = [who.web, *who.more_web]
    by_telegram = {who.telegram, who.both}

    async with harness.sessions() as session:
        unit = await people.find_unit(session, "Plejecenter Åbakken")
        assert await rounds.count_eligible(session, [unit.id], RoundAudience.RELATIVES) == 11
        round_, invited = await standard_round(
            session, [unit], RoundAudience.RELATIVES, anonymous=False
        )
        round_id, opened = round_.id, round_.opens_at
        await session.commit()
    assert invited == 11

    # One delivery each for the right people: pending in the outbox for Telegram users,
    # sent at the round's start for those reached by letter, with no reminder for the
    # sender to send.
    async with harness.sessions() as session:
        rows = (
            await session.execute(
                select(
                    Delivery.respondent_id,
                    Delivery.status,
                    Delivery.sent_at,
                    Delivery.next_reminder_at,
                ).where(Delivery.round_id == round_id)
            )
        ).all()
        participants = set(
            await session.scalars(
                select(RoundParticipant.respondent_id).where(RoundParticipant.round_id == round_id)
            )
        )
        # Starting it again invites no one twice.
        again = await session.get(Round, round_id)
        assert again is not None
        assert await rounds.invite_eligible(session, again) == 0
    by_person = {
        respondent: (status, sent, reminder) for respondent, status, sent, reminder in rows
    }
    assert len(rows) == len(by_person) == 11
    assert set(by_person) == participants == by_telegram | set(web_only)
    for respondent in by_telegram:
        assert by_person[respondent] == (DeliveryStatus.PENDING, None, None)
    for respondent in web_only:
        assert by_person[respondent] == (DeliveryStatus.SENT, opened, None)

    # Status and the metrics' outbox depth: the web-only people are invited and sent,
    # nothing of theirs waits in the outbox.
    async with harness.sessions() as session:
        status = await rounds.round_status(session, round_id)
        waiting = await depth(session)
    assert (status.invited, status.waiting, status.sent) == (11, 2, 9)
    assert (waiting.invitations_due, waiting.invitations_sending, waiting.reminders_due) == (
        2,
        0,
        0,
    )

    # The real sender sends the two Telegram invitations, and nothing more, ever.
    assert await harness.send_invitations() == 2
    assert _invitations(harness) == Counter({TELEGRAM_USER: 1, BOTH_USER: 1})
    assert await harness.send_invitations() == 0
    async with harness.sessions() as session:
        status = await rounds.round_status(session, round_id)
        assert (status.invited, status.waiting, status.sent) == (11, 0, 11)
        # Eight days on, reminders are due for the Telegram users alone.
        later = utcnow() + timedelta(days=8)
        claimed = await claim_due(session, 100, now=later)
        owners = set(
            await session.scalars(
                select(Delivery.respondent_id).where(
                    Delivery.id.in_([m.delivery_id for m in claimed])
                )
            )
        )
        await session.rollback()
    assert {m.kind for m in claimed} == {Kind.REMINDER} and owners == by_telegram

    # Printed reminders: the web-only people, and the one who has not accepted the
    # information yet; not the stopped, the moved, nor anyone with Telegram.
    tokens, started = await _reminded(harness, round_id)
    assert tokens == {who.web_token, *who.more_web_tokens, who.not_informed_token}
    assert started == 10

    # The web person's next visit answers into that same delivery.
    async with harness.sessions() as session:
        _, visitor = await open_web_link(session, who.web_token)
        assert visitor is not None and visitor.respondent_id == who.web
        step = await web_current(session, who.web)
        assert isinstance(step, Question) and step.index == 0
        mine = await session.scalar(
            select(Delivery.id).where(
                Delivery.round_id == round_id, Delivery.respondent_id == who.web
            )
        )
        assert step.delivery_id == mine
        for index in range(step.total):
            await web_answer(session, who.web, step.delivery_id, index, "1")
        done = await web_comment(session, who.web, step.delivery_id, None)
        await session.commit()
    assert isinstance(done.shown, Finished)
    async with harness.sessions() as session:
        theirs = (
            await session.execute(
                select(Delivery.status, Delivery.channel).where(Delivery.respondent_id == who.web)
            )
        ).all()
        total = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.round_id == round_id)
        )
        report = await compute_report(session, await round_selection(session, round_id))
    assert theirs == [(DeliveryStatus.COMPLETED, "web")] and total == 11

    # The response rate counts everyone invited, the web-only people included: 1 of 11.
    figure = report.figure(RESPONSE, None)
    assert figure is not None and figure.values is not None
    assert (figure.values.n, figure.values.completed) == (11, 1)
    assert figure.values.share is not None
    assert abs(figure.values.share.p - 1 / 11) < 1e-9

    # Finished: no more printed reminder for them.
    tokens, started = await _reminded(harness, round_id)
    assert who.web_token not in tokens and started == 9


async def test_a_web_person_who_accepts_during_a_round_joins_it_with_no_chat_reminder(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        citizen = await people.add_citizen(session, unit, "Anna")
        citizen.relatives_wanted = 1
        [letter] = (await print_letters(session, unit)).letters
        round_, invited = await standard_round(session, [unit], RoundAudience.RELATIVES)
        await session.commit()
    assert invited == 0  # the letter is not opened yet: no one to invite
    async with sessions() as session:
        _, visitor = await open_web_link(session, letter.token)
        assert visitor is not None
        step = await web_accept_information(session, visitor.respondent_id)
        await session.commit()
    assert isinstance(step, Question)
    async with sessions() as session:
        [(status, reminder)] = (
            await session.execute(
                select(Delivery.status, Delivery.next_reminder_at).where(
                    Delivery.round_id == round_.id
                )
            )
        ).all()
        status_now = await rounds.round_status(session, round_.id)
        claimed = await claim_due(session, 100, now=utcnow() + timedelta(days=8))
    assert (status, reminder) == (DeliveryStatus.SENT, None)
    assert (status_now.invited, status_now.waiting, status_now.sent) == (1, 0, 1)
    assert claimed == []


@pytest.mark.parametrize("anonymous", [True, False], ids=["anonymous", "named"])
async def test_a_web_person_who_links_telegram_mid_round_is_reminded_in_the_chat(
    harness: BotHarness, anonymous: bool
) -> None:
    # Three relatives accepted on the web; the round (reminders on days 3 and 7) opened
    # four days ago and invited them by letter. Anna's relative began on the web, Bent's
    # finished there, Carl's has not begun.
    async with harness.sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        for name in ("Anna", "Bent", "Carl"):
            citizen = await people.add_citizen(session, unit, name)
            citizen.relatives_wanted = 1
        batch = await print_letters(session, unit)
        token = {letter.first_name: letter.token for letter in batch.letters}
        web = {name: await _web_person(session, token[name]) for name in token}
        opened = utcnow() - timedelta(days=4)
        round_, invited = await standard_round(
            session, [unit], RoundAudience.RELATIVES, now=opened, anonymous=anonymous
        )
        round_id = round_.id
        await session.commit()
    assert invited == 3
    async with harness.sessions() as session:
        for name, answers, finish in (("Anna", 2, False), ("Bent", 7, True)):
            step = await web_current(session, web[name])
            assert isinstance(step, Question)
            for index in range(answers):
                await web_answer(session, web[name], step.delivery_id, index, "1")
            if finish:
                await web_comment(session, web[name], step.delivery_id, None)
        await session.commit()
    tokens, started = await _reminded(harness, round_id)
    assert tokens == {token["Anna"], token["Carl"]} and started == 2

    # Anna's and Bent's relatives open their letter's link in Telegram, mid-round: the
    # chat shows Anna's where they stopped, and Bent's that nothing is open.
    anna, bent = harness.person(720_001), harness.person(720_002)
    await anna.send(f"/start {token['Anna']}")
    assert anna.last.text.startswith("Spørgsmål 3 af 7")
    [reply] = await bent.send(f"/start {token['Bent']}")
    assert "ikke noget spørgeskema til dig lige nu" in reply.text

    # Day 3 passed before the link: not made up now. Day 7 brings exactly one reminder,
    # to Anna's relative alone, and it leads back to where they stopped.
    assert await harness.send_invitations() == 0
    day_7 = opened + timedelta(days=7)
    assert await harness.send_invitations(lambda: day_7 - timedelta(minutes=1)) == 0
    assert await harness.send_invitations(lambda: day_7 + timedelta(minutes=1)) == 1
    assert invitations(harness.standin, REMINDER) == Counter({720_001: 1})
    await anna.press("Fortsæt spørgeskemaet")
    assert anna.last.text.startswith("Spørgsmål 3 af 7")
    # At most the round's two days: nothing more before it closes.
    assert await harness.send_invitations(lambda: opened + timedelta(days=13)) == 0
    assert invitations(harness.standin, REMINDER) == Counter({720_001: 1})

    # The printed reminders leave out everyone with Telegram now: Carl's relative alone.
    tokens, started = await _reminded(harness, round_id)
    assert tokens == {token["Carl"]} and started == 1


async def test_chat_reminders_after_linking_count_from_the_invitation_and_skip_past_days(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # A round with reminders on days 3 and 7 opened eight days ago. Anna's relative was
    # invited by letter at its start (both days are past); Bent's accepted on the web
    # only now, so the round invited them now.
    async with sessions() as session:
        unit = await people.add_unit(session, "Plejecenter Åbakken", "care_home")
        for name in ("Anna", "Bent"):
            citizen = await people.add_citizen(session, unit, name)
            citizen.relatives_wanted = 1
        batch = await print_letters(session, unit)
        token = {letter.first_name: letter.token for letter in batch.letters}
        anna = await _web_person(session, token["Anna"])
        now = utcnow()
        await standard_round(
            session, [unit], RoundAudience.RELATIVES, days=20, now=now - timedelta(days=8)
        )
        _, visitor = await open_web_link(session, token["Bent"])
        assert visitor is not None
        assert isinstance(await web_accept_information(session, visitor.respondent_id), Question)
        bent = visitor.respondent_id
        for name, user_id in (("Anna", 730_001), ("Bent", 730_002)):
            linked = await open_invite(
                session, token[name], telegram_user_id=user_id, chat_id=user_id
            )
            assert linked.outcome == InviteOutcome.RESPONDENT and not linked.needs_information
        await session.commit()
        open_ = dict((await session.execute(select(Delivery.respondent_id, Delivery.status))).all())
    assert open_ == {anna: DeliveryStatus.SENT, bent: DeliveryStatus.SENT}

    async def reminded(at: timedelta) -> list[int | None]:
        """Whose reminders the sender claims ``at`` from now."""
        async with sessions() as session:
            claimed = await claim_due(session, 100, now=now + at)
            owners = [
                await session.scalar(
                    select(Delivery.respondent_id).where(Delivery.id == message.delivery_id)
                )
                for message in claimed
                if message.kind == Kind.REMINDER
            ]
            await session.commit()
        return owners

    assert await reminded(timedelta(minutes=1)) == []
    assert await reminded(timedelta(days=3, minutes=1)) == [bent]
    assert await reminded(timedelta(days=3, minutes=2)) == []
    assert await reminded(timedelta(days=7, minutes=1)) == [bent]
    assert await reminded(timedelta(days=11)) == []
