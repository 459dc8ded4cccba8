"""/eksport: staff and coordinators fetch a round's or a period's results as files."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ExportCb
from bot.i18n import date_text
from bot.routers.common import locale
from storage.models import TelegramAccount
from surveys.clock import DANISH_TIME
from surveys.errors import PejlingError
from surveys.exports import access
from surveys.indicators import Report, compute_report, period_selection, round_selection
from surveys.registry.staff import staff_scope

PERIOD_MONTHS = (3, 12)


def _refusal() -> str:
    return _(
        "Resultater kan kun hentes af medarbejdere og kvalitetskoordinatorer. "
        "Har du brug for dem, så kontakt din leder."
    )


async def export_menu(
    message: Message, session: AsyncSession, account: TelegramAccount | None
) -> None:
    scope = await staff_scope(session, account)
    if scope is None:
        await message.answer(_refusal())
        return
    choices = await access.rounds_for(session, scope)
    if not choices:
        await message.answer(_("Der er endnu ingen runder at hente resultater fra."))
        return
    builder = InlineKeyboardBuilder()
    for choice in choices:
        builder.button(
            text=_("Runde {number}, {date}").format(
                number=choice.id, date=date_text(choice.opens_at, locale())
            ),
            callback_data=ExportCb(r=choice.id, m=0),
        )
    for months in PERIOD_MONTHS:
        builder.button(
            text=_("Seneste {months} måneder").format(months=months),
            callback_data=ExportCb(r=0, m=months),
        )
    builder.adjust(1)
    await message.answer(
        _(
            "Vælg en runde eller en periode. Du får et Excel-ark, en CSV-fil og en graf "
            "for hvert tema. Tal på færre end 5 svar er skjult."
        ),
        reply_markup=builder.as_markup(),
    )


def _files(report: Report) -> list[tuple[str, bytes]]:
    # XlsxWriter and matplotlib load on the first export, not in every idle bot process.
    from surveys.exports.charts import theme_charts
    from surveys.exports.csv import csv_bytes
    from surveys.exports.xlsx import xlsx_bytes

    stem = access.file_stem(report.selection)
    files = [(f"{stem}.xlsx", xlsx_bytes(report)), (f"{stem}.csv", csv_bytes(report))]
    files += [(f"{stem}-{name}", png) for name, png in theme_charts(report)]
    return files


async def export_chosen(
    callback: CallbackQuery,
    callback_data: ExportCb,
    session: AsyncSession,
    account: TelegramAccount | None,
    bot: Bot,
) -> None:
    scope = await staff_scope(session, account)
    if scope is None:
        await callback.answer(_refusal(), show_alert=True)
        return
    if callback_data.r > 0:
        if not await access.may_export_round(session, scope, callback_data.r):
            await callback.answer(_("Den runde kan du ikke hente resultater for."), show_alert=True)
            return
        selection = await round_selection(session, callback_data.r)
    elif callback_data.m in PERIOD_MONTHS:
        today = datetime.now(DANISH_TIME).date()
        try:
            selection = await period_selection(
                session, today - relativedelta(months=callback_data.m), today
            )
        except PejlingError:
            await callback.answer(_("Der er ingen runder i den periode."), show_alert=True)
            return
    else:
        await callback.answer(_("Denne knap virker ikke længere."), show_alert=True)
        return
    report = await compute_report(
        session, selection, unit_ids=access.units_shown(scope), comments=scope.coordinator
    )
    if not report.units:
        await callback.answer(_("Ingen af dine enheder var med i den periode."), show_alert=True)
        return
    await callback.answer(_("Et øjeblik, jeg samler resultaterne …"))
    files = await asyncio.to_thread(_files, report)
    chat_id = callback.from_user.id
    await bot.send_message(
        chat_id,
        _("Resultater for {what}. Tal på færre end 5 svar er skjult.").format(
            what=report.selection.label
        ),
    )
    for name, data in files:
        await bot.send_document(chat_id, BufferedInputFile(data, filename=name))


def make_router() -> Router:
    """A fresh router: aiogram attaches a router to one dispatcher only."""
    router = Router(name="export")
    router.message.register(export_menu, Command("eksport", "export"))
    router.callback_query.register(export_chosen, ExportCb.filter())
    return router
