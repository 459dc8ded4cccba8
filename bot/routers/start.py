"""/start: onboarding by deep link, the information text, and coming back."""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import InfoCb
from bot.config import Settings
from bot.render import information_screen
from bot.routers.common import edit, locale, nothing_open_text, remove_buttons, show_new
from storage.models import InviteRole, TelegramAccount
from surveys import journey
from surveys.journey import InviteOutcome, InviteResult
from surveys.questionnaire.translation import LOCALES


async def start_with_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    bot: Bot,
) -> None:
    assert message.from_user is not None
    result = await journey.open_invite(
        session, command.args or "", telegram_user_id=message.from_user.id, chat_id=message.chat.id
    )
    # Stored before the reply: a wrong token counts against the next try at once.
    await session.commit()
    contact = html.quote(settings.contact or _("din kommunes ældreområde"))
    if result.outcome == InviteOutcome.THROTTLED:
        await message.answer(
            _(
                "Der er prøvet for mange forkerte links. Vent et kvarter, og prøv så igen "
                "med linket fra dit brev. Kontakt {contact}, hvis det stadig ikke virker."
            ).format(contact=contact)
        )
        return
    if result.outcome == InviteOutcome.UNKNOWN:
        await message.answer(
            _(
                "Det link kender jeg ikke. Tjek, at du har brugt hele linket eller QR-koden "
                "fra dit brev. Virker det stadig ikke, så kontakt {contact}."
            ).format(contact=contact)
        )
        return
    if result.outcome == InviteOutcome.EXPIRED:
        await message.answer(
            _("Linket er ikke længere gyldigt. Kontakt {contact} for at få et nyt.").format(
                contact=contact
            )
        )
        return
    if result.outcome in (InviteOutcome.CITIZEN_DIED, InviteOutcome.CITIZEN_MOVED):
        await message.answer(_citizen_left_text(result, contact))
        return
    if result.outcome == InviteOutcome.USED:
        await message.answer(
            _(
                "Linket er allerede brugt. Et link kan kun bruges én gang. "
                "Har du selv brugt det før, så skriv bare /start."
            )
        )
        return
    assert result.account is not None
    if result.outcome == InviteOutcome.STAFF:
        if result.role == InviteRole.COORDINATOR:
            text = _("Velkommen! Du er nu oprettet som kvalitetskoordinator for alle enheder.")
        else:
            text = _("Velkommen! Du er nu oprettet som medarbejder ved {unit}.").format(
                unit=html.quote(result.unit_name or "")
            )
        await message.answer(text)
        return
    if result.needs_information:
        screen = information_screen(settings, locale())
        await message.answer(screen.text, reply_markup=screen.markup)
        return
    await _continue(bot, session, result.account, message.chat.id)


def _citizen_left_text(result: InviteResult, contact: str) -> str:
    """For whoever opens the link of a citizen who died (respectfully, and with nothing to
    do) or moved out (plainly)."""
    name = html.quote(result.citizen_name) if result.citizen_name else None
    if result.outcome == InviteOutcome.CITIZEN_DIED:
        if name:
            text = _(
                "Vi har fået besked om, at {name} er gået bort. Vi sender derfor ingen "
                "spørgeskemaer om hjælpen til {name}. Vi beklager, hvis denne besked kommer "
                "på et svært tidspunkt. Har du spørgsmål, er du velkommen til at kontakte "
                "{contact}."
            )
        else:
            text = _(
                "Vi har fået besked om, at den borger, som linket gælder, er gået bort. Vi "
                "sender derfor ingen spørgeskemaer om hjælpen. Vi beklager, hvis denne besked "
                "kommer på et svært tidspunkt. Har du spørgsmål, er du velkommen til at "
                "kontakte {contact}."
            )
    elif name:
        text = _(
            "Linket gælder ikke længere, fordi {name} er flyttet. Der kommer derfor ingen "
            "spørgeskemaer med dette link. Har du spørgsmål, så kontakt {contact}."
        )
    else:
        text = _(
            "Linket gælder ikke længere, fordi borgeren er flyttet. Der kommer derfor ingen "
            "spørgeskemaer med dette link. Har du spørgsmål, så kontakt {contact}."
        )
    return text.format(name=name, contact=contact)


async def start_plain(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    account: TelegramAccount | None,
    bot: Bot,
) -> None:
    if account is None:
        await message.answer(
            _(
                "Hej! Dette er {municipality}s spørgeskema-service om hjælpen og plejen. "
                "For at være med skal du bruge linket eller QR-koden fra dit brev."
            ).format(municipality=html.quote(settings.municipality))
        )
        return
    if account.informed_at is None:
        screen = information_screen(settings, locale())
        await message.answer(screen.text, reply_markup=screen.markup)
        return
    if await journey.resume(session, account):
        await session.commit()
        await message.answer(_("Velkommen tilbage! Du får igen spørgeskemaer fra os."))
    await _continue(bot, session, account, message.chat.id)


async def _continue(
    bot: Bot, session: AsyncSession, account: TelegramAccount, chat_id: int
) -> None:
    """Show the survey the person is in the middle of, or say there is none."""
    step = await journey.next_step(session, account)
    await session.commit()
    if step is None:
        await bot.send_message(chat_id, nothing_open_text())
    else:
        await show_new(bot, chat_id, step)


async def information_accepted(
    callback: CallbackQuery, session: AsyncSession, account: TelegramAccount | None
) -> None:
    if account is None:
        await callback.answer(_("Brug linket fra dit brev for at komme i gang."), show_alert=True)
        return
    step = await journey.accept_information(session, account)
    await session.commit()
    await remove_buttons(callback)  # the text stays, to read again
    assert callback.bot is not None
    if step is None:
        await send_text(callback, nothing_open_text())
    else:
        await show_new(callback.bot, callback.from_user.id, step)
    await callback.answer()


async def information_declined(
    callback: CallbackQuery, session: AsyncSession, account: TelegramAccount | None
) -> None:
    if account is not None:
        await journey.decline(session, account)
        await session.commit()
    await remove_buttons(callback)  # the text stays, to read again
    await send_text(
        callback,
        _(
            "Det er helt i orden. Du får ingen spørgeskemaer, og din hjælp er den samme. "
            "Fortryder du, så skriv /start."
        ),
    )
    await callback.answer()


async def information_language(
    callback: CallbackQuery,
    callback_data: InfoCb,
    session: AsyncSession,
    account: TelegramAccount | None,
    settings: Settings,
    i18n: I18n,
) -> None:
    if account is not None:
        await journey.set_locale(session, account, callback_data.choice)
        await session.commit()
    with i18n.use_locale(callback_data.choice):
        await edit(callback, information_screen(settings, callback_data.choice))
    await callback.answer()


async def send_text(callback: CallbackQuery, text: str) -> None:
    assert callback.bot is not None
    await callback.bot.send_message(callback.from_user.id, text)


def make_router() -> Router:
    """A fresh router: aiogram attaches a router to one dispatcher only."""
    router = Router(name="start")
    router.message.register(start_with_invite, CommandStart(deep_link=True))
    router.message.register(start_plain, CommandStart())
    router.callback_query.register(information_accepted, InfoCb.filter(F.choice == "yes"))
    router.callback_query.register(information_declined, InfoCb.filter(F.choice == "no"))
    router.callback_query.register(information_language, InfoCb.filter(F.choice.in_(set(LOCALES))))
    return router
