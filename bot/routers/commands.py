"""The person's commands: help, language, stop, see my data, delete my data."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.types import BotCommand, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import DeleteCb, LangCb
from bot.config import Settings
from bot.i18n import date_text, number_text
from bot.paging import split_text
from bot.routers.common import locale, remove_buttons
from storage.housekeeping import KEEP_LANGUAGE_CHOICES
from storage.models import TelegramAccount
from surveys import journey
from surveys.privacy import rights as privacy
from surveys.privacy.texts import failed_links_line, my_data_text
from surveys.questionnaire.translation import LOCALES

# (command, description) for Telegram's menu; lazy so each language gets its own text.
MENU = (
    ("start", __("Start eller fortsæt et spørgeskema")),
    ("hjaelp", __("Hjælp til at bruge Pejling")),
    ("sprog", __("Vælg sprog: dansk eller engelsk")),
    ("stop", __("Få ikke flere spørgeskemaer")),
    ("mine_data", __("Se, hvad vi har gemt om dig")),
    ("slet", __("Slet dine data")),
)


def menu_commands(i18n: I18n, locale_code: str) -> list[BotCommand]:
    """The command menu in one language."""
    with i18n.context(), i18n.use_locale(locale_code):
        return [BotCommand(command=name, description=str(text)) for name, text in MENU]


async def help_(message: Message, settings: Settings) -> None:
    contact = settings.contact or _("din kommunes ældreområde")
    await message.answer(
        _(
            "Sådan virker det:\n"
            "• Du får et spørgsmål ad gangen. Tryk på det svar, der passer bedst.\n"
            "• «Ved ikke» og «Spring over» er altid i orden. «Tilbage» går et spørgsmål "
            "tilbage.\n"
            "• Du kan holde pause og fortsætte senere med /start.\n\n"
            "Kommandoer:\n"
            "/start – start eller fortsæt\n"
            "/sprog – dansk eller engelsk\n"
            "/stop – ingen flere spørgeskemaer\n"
            "/mine_data – se, hvad vi har gemt om dig\n"
            "/slet – slet dine data\n\n"
            "Spørgsmål? Kontakt {contact}."
        ).format(contact=html.quote(contact))
    )


async def language(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text="🇩🇰 Dansk", callback_data=LangCb(code="da"))
    builder.button(text="🇬🇧 English", callback_data=LangCb(code="en"))
    builder.adjust(1)
    await message.answer(_("Vælg sprog:"), reply_markup=builder.as_markup())


async def language_chosen(
    callback: CallbackQuery,
    callback_data: LangCb,
    session: AsyncSession,
    account: TelegramAccount | None,
    i18n: I18n,
) -> None:
    await remove_buttons(callback)
    with i18n.use_locale(callback_data.code):
        if account is None:
            # Kept for the information text they will see when they open their invite.
            await journey.remember_language(session, callback.from_user.id, callback_data.code)
            await session.commit()
            text = _("Nu skriver jeg på dansk. Brug linket fra dit brev for at komme i gang.")
        else:
            await journey.set_locale(session, account, callback_data.code)
            await session.commit()
            text = _("Nu skriver jeg på dansk.")
        assert callback.bot is not None
        await callback.bot.send_message(callback.from_user.id, text)
        await callback.answer()


async def stop(message: Message, session: AsyncSession, account: TelegramAccount | None) -> None:
    if account is None:
        await message.answer(_("Du er ikke tilmeldt, så du får ingen spørgeskemaer fra os."))
        return
    await journey.stop(session, account)
    await session.commit()
    await message.answer(
        _(
            "Du får ikke flere spørgeskemaer fra os. Det ændrer ikke noget ved din hjælp. "
            "Fortryder du, så skriv /start."
        )
    )


async def my_data(
    message: Message, session: AsyncSession, account: TelegramAccount | None, settings: Settings
) -> None:
    assert message.from_user is not None
    if account is None:
        await message.answer(await _traces_text(session, message.from_user.id))
        return
    data = await privacy.my_data(session, account, settings.retention_months)
    text = my_data_text(data, _, locale(), html.quote)
    lines = [
        _("Det har vi gemt om dig:"),
        _("• Din Telegram-konto (så vi kan skrive til dig)"),
        *text.kept,
        *text.deletion,
    ]
    lines.append(_("Skriv /slet, hvis du vil have alt slettet nu."))
    # Staff of many units, or a relative of many citizens, gets it in several messages.
    for part in split_text("\n".join(lines)):
        await message.answer(part)


async def _traces_text(session: AsyncSession, telegram_user_id: int) -> str:
    """/mine_data of someone without an account: the little that is kept, if anything."""
    traces = await privacy.traces(session, telegram_user_id)
    if traces.empty:
        return _("Vi har ingen oplysninger om dig.")
    loc = locale()
    lines = [_("Du har ingen konto hos os. Vi har kun gemt:")]
    if traces.locale is not None:
        lines.append(
            _(
                "• Dit valg af sprog: {language} (til du bruger linket fra dit brev, "
                "højst {days} dage)"
            ).format(
                language=_("engelsk") if traces.locale == "en" else _("dansk"),
                days=number_text(KEEP_LANGUAGE_CHOICES.days, loc),
            )
        )
    if traces.failed_links:
        lines.append(failed_links_line(traces.failed_links, _, loc))
    lines.append(_("Skriv /slet, hvis du vil have det slettet nu."))
    return "\n".join(lines)


async def delete(
    message: Message, session: AsyncSession, account: TelegramAccount | None, settings: Settings
) -> None:
    assert message.from_user is not None
    if account is None:
        await message.answer(await _forget_traces(session, message.from_user.id))
        return
    data = await privacy.my_data(session, account, settings.retention_months)
    loc = locale()
    text = _(
        "Vil du slette alt, hvad vi har gemt om dig? Det slettes med det samme og for altid: "
        "din konto, dit sprogvalg, links du har prøvet, og de svar og kommentarer, der "
        "stadig kan kobles til dig (svar: {answers}, kommentarer: {comments}). Du får ikke "
        "flere spørgeskemaer. Det kan ikke fortrydes."
    ).format(answers=number_text(data.answers, loc), comments=number_text(data.comments, loc))
    if data.anonymous_rounds and data.anonymous_delete_by is not None:
        text += "\n\n" + _(
            "Anonyme spørgeskemaer, du har afsluttet, eller som er lukket: {count}. Dine svar "
            "og kommentarer i dem er allerede skilt fra dig, så ingen kan finde dem frem, "
            "heller ikke vi. Derfor bliver de ikke slettet nu, men senest {date}, sammen med "
            "alle andre svar. Kun tal for hele enheden bliver tilbage."
        ).format(
            count=number_text(data.anonymous_rounds, loc),
            date=date_text(data.anonymous_delete_by, loc),
        )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Ja, slet mine data"), callback_data=DeleteCb(confirm=True))
    builder.button(text=_("Nej, behold dem"), callback_data=DeleteCb(confirm=False))
    builder.adjust(1)
    await message.answer(text, reply_markup=builder.as_markup())


async def _forget_traces(session: AsyncSession, telegram_user_id: int) -> str:
    """/slet of someone without an account: delete the little that is kept, at once."""
    traces = await privacy.traces(session, telegram_user_id)
    if traces.empty:
        return _("Vi har ingen oplysninger om dig, så der er intet at slette.")
    await privacy.forget_traces(session, telegram_user_id)
    await session.commit()
    return _("Du har ingen konto hos os. Det lidt, vi havde gemt om dig, er slettet nu.")


async def delete_confirmed(
    callback: CallbackQuery,
    callback_data: DeleteCb,
    session: AsyncSession,
    account: TelegramAccount | None,
) -> None:
    await remove_buttons(callback)
    assert callback.bot is not None
    if not callback_data.confirm:
        await callback.bot.send_message(callback.from_user.id, _("Godt, vi sletter ingenting."))
    elif account is None:
        await callback.bot.send_message(
            callback.from_user.id, await _forget_traces(session, callback.from_user.id)
        )
    else:
        await privacy.delete_my_data(session, account)
        await session.commit()
        await callback.bot.send_message(
            callback.from_user.id,
            _(
                "Dine data er slettet. Tak for din tid. "
                "Vil du være med igen senere, skal du bruge et nyt link fra kommunen."
            ),
        )
    await callback.answer()


def make_router() -> Router:
    """A fresh router: aiogram attaches a router to one dispatcher only."""
    router = Router(name="commands")
    router.message.register(help_, Command("hjaelp", "help"))
    router.message.register(language, Command("sprog", "language"))
    router.callback_query.register(language_chosen, LangCb.filter(F.code.in_(set(LOCALES))))
    router.message.register(stop, Command("stop"))
    router.message.register(my_data, Command("mine_data"))
    router.message.register(delete, Command("slet"))
    router.callback_query.register(delete_confirmed, DeleteCb.filter())
    return router
