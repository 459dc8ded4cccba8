"""Sends the invitations waiting in the outbox, within Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import normalise_locale
from bot.render import invitation_screen
from surveys import outbox

log = logging.getLogger(__name__)

BATCH = 100


class InvitationSender:
    """Claims pending invitations in batches and sends them, spaced to ``send_rate``."""

    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        i18n: I18n,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.settings = settings
        self.i18n = i18n

    async def run_once(self) -> int:
        """Send what is due now; returns how many invitations went out."""
        sent = 0
        while True:
            async with self.sessions() as session:
                batch = await outbox.claim_due_invitations(session, BATCH)
                await session.commit()
            if not batch:
                return sent
            for invitation in batch:
                sent += await self._send(invitation)
                await asyncio.sleep(1 / self.settings.send_rate)

    async def _send(self, invitation: outbox.Invitation) -> int:
        locale = normalise_locale(invitation.locale)
        with self.i18n.context(), self.i18n.use_locale(locale):
            screen = invitation_screen(invitation, self.settings, locale)
        try:
            await self.bot.send_message(invitation.chat_id, screen.text, reply_markup=screen.markup)
        except TelegramRetryAfter as error:
            log.warning("rate limited; pausing %s s", error.retry_after)
            await self._settle(outbox.release, invitation, "429 Too Many Requests")
            await asyncio.sleep(error.retry_after)
            return 0
        except TelegramForbiddenError:
            await self._settle(outbox.mark_gone, invitation)
            return 0
        except TelegramBadRequest as error:
            await self._settle(outbox.mark_failed, invitation, error.message)
            return 0
        except (TelegramNetworkError, TelegramServerError) as error:
            log.warning("delivery %s: %s; will retry", invitation.delivery_id, error)
            await self._settle(outbox.release, invitation, str(error))
            return 0
        await self._settle(outbox.mark_sent, invitation)
        log.info("delivery %s: invitation sent", invitation.delivery_id)
        return 1

    async def _settle(
        self,
        action: Callable[..., Awaitable[None]],
        invitation: outbox.Invitation,
        *args: str,
    ) -> None:
        async with self.sessions() as session:
            await action(session, invitation.delivery_id, *args)
            await session.commit()
