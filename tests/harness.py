"""The bot as it runs in production, against the Bot API stand-in over real HTTP.

Only the clock of the outbox is driven by the test (``send_invitations``); everything
else is the real dispatcher, routers, middlewares and database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import UPDATES_AT_ONCE, build_bot, build_dispatcher, set_menu
from bot.config import Settings
from bot.i18n import make_i18n
from bot.metrics import Metrics
from bot.sender import Sender, SendReport
from standin import BotAPIStandIn, Person
from storage.models import (
    Citizen,
    InviteRole,
    Respondent,
    Round,
    RoundAudience,
    TelegramAccount,
    Unit,
)
from storage.types import utcnow
from surveys import journey
from surveys.fieldwork import rounds
from surveys.letters.invitations import LetterBatch, issue_letters
from surveys.questionnaire.loader import load_surveys
from surveys.registry import people
from surveys.registry.invites import issue_invites

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
BOT_USERNAME = "pejling_test_bot"
LINK_SECRET = b"a-test-link-secret-of-enough-length-0123456789"
PUBLIC_URL = "https://pejling.test"


async def standard_round(
    session: AsyncSession,
    units: Sequence[Unit],
    audience: RoundAudience,
    *,
    days: int = 14,
    now: datetime | None = None,
    anonymous: bool = True,
    reminder_days: Sequence[int] = (3, 7),
) -> tuple[Round, int]:
    """A round of the standard survey opened ``now`` (this moment by default) for ``days``
    (the caller commits): the round and how many it invited."""
    opened = utcnow() if now is None else now
    return await rounds.start_round(
        session,
        load_surveys()["standard"],
        units,
        audience,
        opened + timedelta(days=days),
        now=now,
        anonymous=anonymous,
        reminder_days=reminder_days,
    )


async def print_letters(
    session: AsyncSession,
    unit: Unit,
    audience: RoundAudience = RoundAudience.RELATIVES,
    *,
    days: int = 30,
    bot_username: str = BOT_USERNAME,
    public_url: str = PUBLIC_URL,
) -> LetterBatch:
    """The unit's printed letters, valid for ``days``, links signed with LINK_SECRET (the
    caller commits)."""
    return await issue_letters(
        session,
        unit,
        audience,
        bot_username=bot_username,
        ttl=timedelta(days=days),
        secret=LINK_SECRET,
        public_url=public_url,
    )


@dataclass(frozen=True)
class WebAnswers:
    """What ``answer_on_the_web`` did: who answered, in which delivery, and the outcome of
    the comment page (None when the person did not finish)."""

    respondent_id: int
    delivery_id: int
    done: journey.Outcome | None


async def answer_on_the_web(
    session: AsyncSession,
    token: str,
    answers: int | None = None,
    *,
    choice: str = "1",
    finish: bool = False,
    comment: str | None = None,
) -> WebAnswers:
    """A person opens their letter's link on the web, accepts the information, gives
    ``choice`` to the first ``answers`` questions (all by default) and, with ``finish``,
    ends on the comment page with ``comment`` (the caller commits)."""
    _, visitor = await journey.open_web_link(session, token)
    assert visitor is not None
    step = await journey.web_accept_information(session, visitor.respondent_id)
    assert isinstance(step, journey.Question)
    me, delivery = visitor.respondent_id, step.delivery_id
    for index in range(step.total if answers is None else answers):
        await journey.web_answer(session, me, delivery, index, choice)
    done = await journey.web_comment(session, me, delivery, comment) if finish else None
    return WebAnswers(me, delivery, done)


@dataclass
class Municipality:
    """What the municipality does on the command line, through the same domain code."""

    sessions: async_sessionmaker[AsyncSession]

    async def unit(self, name: str = "Plejecenter Åbakken", kind: str = "care_home") -> int:
        async with self.sessions() as session:
            unit = await people.add_unit(session, name, kind)
            await session.commit()
            return unit.id

    async def citizen(self, unit_id: int, name: str | None = "Anna") -> int:
        async with self.sessions() as session:
            unit = await people.find_unit(session, str(unit_id))
            citizen = await people.add_citizen(session, unit, name)
            await session.commit()
            return citizen.id

    async def invite(
        self,
        role: InviteRole,
        *,
        citizen_id: int | None = None,
        unit_id: int | None = None,
        ttl: timedelta = timedelta(days=30),
    ) -> str:
        async with self.sessions() as session:
            [issued] = await issue_invites(
                session, role, ttl=ttl, citizen_id=citizen_id, unit_id=unit_id
            )
            await session.commit()
            return issued.token

    async def open_round(
        self, unit_id: int, audience: RoundAudience = RoundAudience.BOTH, days: int = 14
    ) -> tuple[int, int]:
        async with self.sessions() as session:
            unit = await people.find_unit(session, str(unit_id))
            round_, invited = await standard_round(session, [unit], audience, days=days)
            await session.commit()
            return round_.id, invited


@dataclass
class BotHarness(Municipality):
    """The running bot, and the municipality's set-up beside it."""

    standin: BotAPIStandIn
    settings: Settings
    bot: Bot | None = None
    dispatcher: Dispatcher | None = None
    task: asyncio.Task[None] | None = None
    started: int = field(default=0)
    metrics: Metrics = field(default_factory=Metrics)
    #: How long the bot waits for Telegram's answer to a request, in seconds (None:
    #: aiogram's default, a minute); taken at the next start.
    request_timeout: float | None = None

    async def start(self) -> None:
        """Start a fresh bot process' worth of objects: nothing survives from before."""
        self.bot = build_bot(self.settings)
        if self.request_timeout is not None:
            # Before polling starts: aiogram gives getUpdates this much beyond its long poll.
            self.bot.session.timeout = self.request_timeout
        i18n = make_i18n()
        self.metrics = Metrics()
        self.dispatcher = build_dispatcher(self.settings, self.sessions, i18n, self.metrics)
        await set_menu(self.bot, i18n)
        self.task = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,
                polling_timeout=1,
                tasks_concurrency_limit=UPDATES_AT_ONCE,
            )
        )
        self.started += 1

    async def stop(self) -> None:
        if self.dispatcher is not None and self.task is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, timeout=10)
        if self.bot is not None:
            await self.bot.session.close()
        self.bot = self.dispatcher = self.task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def sender(self, clock: Callable[[], datetime] = utcnow) -> Sender:
        assert self.bot is not None
        # Telegram's retry_after pauses, the outage pauses and the retry of a message that
        # met an outage run at 1/100 speed here; their handling is the same.
        return Sender(
            self.bot,
            self.sessions,
            self.settings,
            make_i18n(),
            clock=clock,
            pause_scale=0.01,
            metrics=self.metrics,
        )

    async def send_invitations(self, clock: Callable[[], datetime] = utcnow) -> int:
        """One tick of the outbox sender; how many messages went out."""
        report: SendReport = await self.sender(clock).run_once()
        return report.sent

    def person(self, user_id: int, language_code: str | None = "da") -> Person:
        return self.standin.person(user_id, first_name=f"P{user_id}", language_code=language_code)

    async def crowd(
        self, unit_id: int, count: int, *, first_user_id: int, kind: str = "relative"
    ) -> list[int]:
        """``count`` people who already joined and accepted the information (written
        straight to the database: the journey tests cover how people join)."""
        now = utcnow()
        async with self.sessions() as session:
            users = []
            for number in range(count):
                user_id = first_user_id + number
                citizen = Citizen(unit_id=unit_id, first_name=f"Borger{number}")
                account = TelegramAccount(
                    telegram_user_id=user_id, chat_id=user_id, informed_at=now
                )
                session.add_all([citizen, account])
                await session.flush()
                session.add(Respondent(kind=kind, citizen_id=citizen.id, account_id=account.id))
                self.standin.person(user_id, started=True)
                users.append(user_id)
            await session.commit()
        return users
