"""`pejling purge`: identifiable data past the retention period goes; the figures stay,
from the round's tallies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Answer,
    AnswerKind,
    Citizen,
    CitizenStatus,
    Comment,
    Delivery,
    DeliveryStatus,
    Respondent,
    RoundAudience,
    RoundParticipant,
    TelegramAccount,
    Unit,
    WebAccount,
)
from surveys.fieldwork import rounds
from surveys.indicators import compute_report, round_selection
from surveys.privacy import retention
from surveys.questionnaire.loader import load_surveys
from tests.harness import standard_round

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def person(session: AsyncSession, unit: Unit, user_id: int, joined: datetime) -> Respondent:
    citizen = Citizen(unit_id=unit.id, first_name="Inger", created_at=joined)
    account = TelegramAccount(
        telegram_user_id=user_id, chat_id=user_id, informed_at=joined, created_at=joined
    )
    session.add_all([citizen, account])
    await session.flush()
    respondent = Respondent(
        kind="relative", citizen_id=citizen.id, account_id=account.id, created_at=joined
    )
    session.add(respondent)
    await session.flush()
    return respondent


async def answered_round(
    session: AsyncSession, unit: Unit, opened: datetime, *, anonymous: bool
) -> int:
    """A round opened at ``opened`` (open 14 days) in which everyone answered E5 'Ofte'
    and left a comment; links kept (as in an identified round, or before closing)."""
    round_, _ = await standard_round(
        session, [unit], RoundAudience.RELATIVES, now=opened, anonymous=anonymous
    )
    deliveries = (
        (await session.execute(select(Delivery).where(Delivery.round_id == round_.id)))
        .scalars()
        .all()
    )
    for delivery in deliveries:
        delivery.status = DeliveryStatus.COMPLETED
        session.add(
            Answer(
                delivery_id=delivery.id,
                survey_id="standard",
                survey_version=1,
                item_id="E5",
                kind=AnswerKind.VALUE,
                value=2,
            )
        )
        session.add(Comment(delivery_id=delivery.id, text="Min mor Inger får god hjælp"))
    await session.flush()
    return round_.id


async def test_purge_removes_identifiable_data_and_keeps_the_figures(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        unit = Unit(name="Plejecenter Åbakken", kind="care_home")
        session.add(unit)
        await session.flush()
        long_ago = NOW - timedelta(days=500)
        # Twelve relatives (enough for figures to pass suppression) and one whose citizen left.
        regulars = [await person(session, unit, 5551000 + n, long_ago) for n in range(12)]
        regular = regulars[0]
        gone = await person(session, unit, 5559999, long_ago)
        old_round = await answered_round(session, unit, NOW - timedelta(days=450), anonymous=False)
        # The citizen of `gone` moved away 14 months ago.
        moved = await session.get(Citizen, gone.citizen_id)
        assert moved is not None
        moved.status, moved.left_at = CitizenStatus.MOVED, NOW - timedelta(days=430)
        recent_round = await answered_round(
            session, unit, NOW - timedelta(days=20), anonymous=False
        )
        await session.commit()
        report_before = await compute_report(session, await round_selection(session, old_round))
        before = sorted(
            (
                await session.execute(
                    select(Delivery.round_id, Answer.item_id, Answer.value).join(Answer)
                )
            ).all()
        )

    async with sessions() as session:
        report = await retention.purge(session, retention_months=13, now=NOW)
        await session.commit()
    assert (report.rounds, report.tallied, report.deliveries) == (1, 1, 13)
    assert (report.answers, report.comments) == (13, 13)
    assert (report.respondents, report.accounts, report.citizens) == (1, 1, 1)

    async with sessions() as session:
        links = dict(
            (
                await session.execute(
                    select(Delivery.round_id, func.count(Delivery.respondent_id)).group_by(
                        Delivery.round_id
                    )
                )
            ).all()
        )
        # Nothing of the old round is left but its counts; the recent round is untouched.
        assert links == {recent_round: 12}
        assert (
            await session.scalar(
                select(func.count())
                .select_from(RoundParticipant)
                .where(RoundParticipant.round_id == old_round)
            )
            == 0
        )
        comments = (await session.execute(select(Comment.delivery_id).join(Delivery))).all()
        assert len(comments) == 12  # the recent round (to those still in care) keeps them
        citizen = await session.get(Citizen, gone.citizen_id)
        assert citizen is not None and citizen.first_name is None
        assert await session.get(Respondent, gone.id) is None
        assert await session.get(Respondent, regular.id) is not None
        after = sorted(
            (
                await session.execute(
                    select(Delivery.round_id, Answer.item_id, Answer.value).join(Answer)
                )
            ).all()
        )
    assert after == [row for row in before if row[0] == recent_round]
    async with sessions() as session:
        report_after = await compute_report(session, await round_selection(session, old_round))
    # The old round's report still works and gives the same figures, from its tally
    # (comments aside: they went with the answers).
    assert report_after.figures == report_before.figures
    assert report_after.purged_rounds == (old_round,) and report_after.comments == ()
    assert any(figure.shown for figure in report_after.figures.values())

    async with sessions() as session:
        again = await retention.purge(session, retention_months=13, now=NOW)
    assert (again.tallied, again.deliveries, again.answers, again.comments) == (0, 0, 0, 0)
    assert (again.respondents, again.accounts) == (0, 0)


async def test_purge_takes_a_web_only_persons_web_state_with_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A person who answered only on the web and has taken part in nothing since the
    cut-off goes, and their web state (language, information accepted) with them; one who
    took part recently keeps theirs."""
    long_ago = NOW - timedelta(days=500)
    async with sessions() as session:
        unit = Unit(name="Hjemmeplejen Nord", kind="home_care")
        session.add(unit)
        await session.flush()
        people = []
        for name in ("Karen", "Poul"):
            citizen = Citizen(unit_id=unit.id, first_name=name, created_at=long_ago)
            session.add(citizen)
            await session.flush()
            respondent = Respondent(kind="citizen", citizen_id=citizen.id, created_at=long_ago)
            session.add(respondent)
            await session.flush()
            session.add(
                WebAccount(
                    respondent_id=respondent.id,
                    locale="en",
                    informed_at=long_ago,
                    # Karen said "no more surveys" long ago; Poul is invited by letter.
                    stopped_at=long_ago if name == "Karen" else None,
                    created_at=long_ago,
                )
            )
            people.append(respondent.id)
        idle, recent = people
        round_, _ = await rounds.start_round(
            session,
            load_surveys()["standard"],
            [unit],
            RoundAudience.CITIZENS,
            NOW + timedelta(days=14),
            now=NOW - timedelta(days=5),
        )
        participants = set(
            await session.scalars(
                select(RoundParticipant.respondent_id).where(RoundParticipant.round_id == round_.id)
            )
        )
        assert participants == {recent}
        await session.commit()

    async with sessions() as session:
        await retention.purge(session, retention_months=13, now=NOW)
        await session.commit()

    async with sessions() as session:
        left = set(await session.scalars(select(WebAccount.respondent_id)))
        respondents = set(await session.scalars(select(Respondent.id)))
    assert idle not in respondents and idle not in left
    assert recent in respondents and left == {recent}
