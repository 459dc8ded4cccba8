"""Staff in the chat: /runde starts a round with buttons, /status shows open rounds.

The choices so far live in the database (round_drafts), so any process takes the next
press; every press is checked against the presser's own units.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import Router, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import RoundCb, ascii_number
from bot.i18n import date_text, number_text
from bot.paging import PAGE_SIZE, add_page_buttons, page_of, split_text
from bot.problems import problem_text
from bot.render import Screen
from bot.routers.common import edit, locale
from storage.models import RoundAudience, RoundDraft, TelegramAccount
from storage.types import utcnow
from surveys.errors import PejlingError
from surveys.fieldwork import rounds
from surveys.questionnaire.loader import load_surveys
from surveys.registry.staff import StaffScope, discard_draft, round_draft, staff_scope

CLOSING_WEEKS = (1, 2, 3, 4)


def only_staff() -> str:
    return _("Denne kommando er kun for personale. Du skal ikke gøre noget.")


AUDIENCES = {
    RoundAudience.CITIZENS: __("borgere"),
    RoundAudience.RELATIVES: __("pårørende"),
    RoundAudience.BOTH: __("borgere og pårørende"),
}


def audience_label(audience: RoundAudience) -> str:
    """Whom a round goes to, in the reader's language."""
    return str(AUDIENCES[audience])


def _units_screen(scope: StaffScope, chosen: list[int], page: int = 0) -> Screen:
    # A municipality can have more units than a keyboard holds: a page at a time.
    shown, page, pages = page_of(scope.units, page)
    builder = InlineKeyboardBuilder()
    for unit in shown:
        mark = "☑" if unit.id in chosen else "☐"
        builder.button(
            text=f"{mark} {unit.name}", callback_data=RoundCb(step="unit", value=str(unit.id))
        )
    add_page_buttons(builder, page, pages, lambda to: RoundCb(step="page", value=str(to)))
    builder.button(text=_("Videre ➡️"), callback_data=RoundCb(step="next"))
    builder.button(text=_("Annullér"), callback_data=RoundCb(step="cancel"))
    builder.adjust(1)
    return Screen(_("Ny runde. Vælg en eller flere enheder:"), builder.as_markup())


def _choice_screen(text: str, options: list[tuple[str, RoundCb]]) -> Screen:
    builder = InlineKeyboardBuilder()
    for label, data in options:
        builder.button(text=label, callback_data=data)
    builder.button(text=_("Annullér"), callback_data=RoundCb(step="cancel"))
    builder.adjust(1)
    return Screen(text, builder.as_markup())


async def start_wizard(
    message: Message, session: AsyncSession, account: TelegramAccount | None
) -> None:
    scope = await staff_scope(session, account)
    if scope is None or account is None:
        await message.answer(only_staff())
        return
    if not scope.units:
        await message.answer(
            _("Du er ikke knyttet til nogen enhed endnu. Kontakt din koordinator.")
        )
        return
    draft = await round_draft(session, account)
    draft.unit_ids, draft.survey_id, draft.audience, draft.closes_days = [], None, None, None
    await session.commit()
    screen = _units_screen(scope, [])
    await message.answer(screen.text, reply_markup=screen.markup)


async def wizard_step(
    callback: CallbackQuery,
    callback_data: RoundCb,
    session: AsyncSession,
    account: TelegramAccount | None,
) -> None:
    scope = await staff_scope(session, account)
    if scope is None or account is None:
        await callback.answer(only_staff(), show_alert=True)
        return
    draft = await round_draft(session, account)
    step, value = callback_data.step, callback_data.value
    screen: Screen | None = None
    if step == "cancel":
        await discard_draft(session, draft)
        await session.commit()
        await edit(callback, Screen(_("Runden er annulleret. Intet er sendt.")))
        await callback.answer()
        return
    if step == "unit":
        unit_id = ascii_number(value)
        if unit_id is None or unit_id not in scope.unit_ids:
            await callback.answer(_("Den enhed hører ikke til dig."), show_alert=True)
            return
        chosen = list(draft.unit_ids)
        chosen = [u for u in chosen if u != unit_id] if unit_id in chosen else [*chosen, unit_id]
        draft.unit_ids = chosen
        page = [u.id for u in scope.units].index(unit_id) // PAGE_SIZE
        screen = _units_screen(scope, chosen, page)
    elif step == "page":
        wanted_page = ascii_number(value)
        if wanted_page is None:
            await callback.answer(_("Vælg en af knapperne."), show_alert=True)
            return
        screen = _units_screen(scope, list(draft.unit_ids), wanted_page)
    elif step == "next":
        if not draft.unit_ids:
            await callback.answer(_("Vælg mindst én enhed."), show_alert=True)
            return
        surveys = load_surveys()
        screen = _choice_screen(
            _("Hvilket spørgeskema?"),
            [
                (f"{s.title} (v{s.version})", RoundCb(step="survey", value=s.id))
                for s in surveys.values()
            ],
        )
    elif step == "survey":
        if value not in load_surveys():
            await callback.answer(_("Det spørgeskema findes ikke længere."), show_alert=True)
            return
        draft.survey_id = value
        screen = _choice_screen(
            _("Hvem skal have det?"),
            [(audience_label(a), RoundCb(step="audience", value=a.value)) for a in RoundAudience],
        )
    elif step == "audience":
        if value not in {a.value for a in RoundAudience}:
            await callback.answer(_("Vælg en af knapperne."), show_alert=True)
            return
        draft.audience = RoundAudience(value)
        loc = locale()
        screen = _choice_screen(
            _("Hvornår skal runden lukke?"),
            [
                (
                    _("Om {weeks} uge(r), {date}").format(
                        weeks=weeks, date=date_text(utcnow() + timedelta(weeks=weeks), loc)
                    ),
                    RoundCb(step="closes", value=str(weeks * 7)),
                )
                for weeks in CLOSING_WEEKS
            ],
        )
    elif step == "closes":
        if value not in {str(w * 7) for w in CLOSING_WEEKS}:
            await callback.answer(_("Vælg en af knapperne."), show_alert=True)
            return
        if not (draft.unit_ids and draft.survey_id and draft.audience):
            # A closing date pressed on an old or forged screen, before the draft had its
            # units, survey and audience (or after another press began it again).
            await callback.answer(
                _("Runden er ikke færdig. Skriv /runde for at begynde forfra."), show_alert=True
            )
            return
        draft.closes_days = int(value)
        screen = await _summary(session, scope, draft)
    elif step == "start":
        await _start(callback, session, scope, draft)
        return
    if screen is None:
        await callback.answer(_("Vælg en af knapperne."), show_alert=True)
        return
    await session.commit()
    await edit(callback, screen)
    await callback.answer()


async def _summary(session: AsyncSession, scope: StaffScope, draft: RoundDraft) -> Screen:
    assert draft.audience and draft.closes_days
    allowed = [u for u in draft.unit_ids if u in scope.unit_ids]
    names = [html.quote(u.name) for u in scope.units if u.id in allowed]
    count = await rounds.count_eligible(session, allowed, RoundAudience(draft.audience))
    loc = locale()
    text = _("Sendes til {count} {audience} i {units}, lukker {date}.").format(
        count=number_text(count, loc),
        audience=audience_label(draft.audience),
        units=", ".join(names),
        date=date_text(utcnow() + timedelta(days=draft.closes_days), loc),
    )
    return _choice_screen(text, [(_("✅ Start runden"), RoundCb(step="start"))])


async def _start(
    callback: CallbackQuery, session: AsyncSession, scope: StaffScope, draft: RoundDraft
) -> None:
    surveys = load_surveys()
    if not (draft.unit_ids and draft.survey_id in surveys and draft.audience and draft.closes_days):
        await callback.answer(
            _("Runden er ikke færdig. Skriv /runde for at begynde forfra."), show_alert=True
        )
        return
    units = [u for u in scope.units if u.id in draft.unit_ids]
    if len(units) != len(draft.unit_ids):
        await callback.answer(_("Den enhed hører ikke til dig."), show_alert=True)
        return
    try:
        round_, invited = await rounds.start_round(
            session,
            surveys[draft.survey_id],
            units,
            RoundAudience(draft.audience),
            utcnow() + timedelta(days=draft.closes_days),
            started_by=f"staff:{scope.staff_id}",
        )
    except PejlingError as error:
        shown = audience_label(RoundAudience(draft.audience))
        await callback.answer(problem_text(error, audience=shown), show_alert=True)
        return
    await discard_draft(session, draft)
    await session.commit()
    await edit(
        callback,
        Screen(
            _("Runde {id} er startet. {count} inviteres nu; nye deltagere får den også.").format(
                id=round_.id, count=number_text(invited, locale())
            )
        ),
    )
    await callback.answer()


async def status(message: Message, session: AsyncSession, account: TelegramAccount | None) -> None:
    scope = await staff_scope(session, account)
    if scope is None:
        await message.answer(only_staff())
        return
    ids = await rounds.open_round_ids(session, None if scope.coordinator else scope.unit_ids)
    if not ids:
        await message.answer(_("Der er ingen åbne runder."))
        return
    loc = locale()
    blocks = []
    for round_id in ids:
        s = await rounds.round_status(session, round_id)
        blocks.append(
            _(
                "Runde {id}: {audience} i {units}, lukker {date}\n"
                "Inviteret {invited} · sendt {sent} · i gang {started} · "
                "færdige {completed} · fejlet {failed}"
            ).format(
                id=s.round_id,
                audience=audience_label(s.audience),
                units=", ".join(html.quote(name) for name in s.unit_names),
                date=date_text(s.closes_at, loc),
                invited=number_text(s.invited, loc),
                sent=number_text(s.sent + s.started + s.completed, loc),
                started=number_text(s.started, loc),
                completed=number_text(s.completed, loc),
                failed=number_text(s.failed, loc),
            )
        )
    # A coordinator of many units with many open rounds gets several messages.
    for part in split_text("\n\n".join(blocks)):
        await message.answer(part)


def make_router() -> Router:
    """A fresh router: aiogram attaches a router to one dispatcher only."""
    router = Router(name="staff")
    router.message.register(start_wizard, Command("runde"))
    router.message.register(status, Command("status"))
    router.callback_query.register(wizard_step, RoundCb.filter())
    return router
