"""The printed invitation letter: one A4 page per invite, in plain Danish (or English).

Large type (body 14 pt), a QR code over 6 cm wide with the letter's web address (a page
offering "Svar her" and "Åbn i Telegram"), that address written out, and a short code to
type at ``<PUBLIC_URL>/kode`` for those without a camera. Telegram is not needed. The QR
code comes from ``qrcode``, the page from ReportLab; the texts go through the gettext
catalog, so the English letter is the catalog's translation.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import qrcode
from babel.dates import format_date
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    Image,
    KeepInFrame,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from storage.models import InviteRole
from surveys.letters.invitations import Letter
from surveys.questionnaire.translation import translations

BODY_SIZE = 14  # points; large type for older readers (klart sprog)
QR_SYMBOL = 6.2 * cm  # the code itself, without the white border around it
QR_BORDER = 4  # modules of white around the code, as the QR standard asks
QR_COLUMN = 8.2 * cm  # room for the largest code a deep link needs
MARGIN = 2 * cm
LINK_FONT = "Courier-Bold"
LINK_SIZES = (13, 12, 11, 10, 9)  # the largest that fits on one line is used

BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=BODY_SIZE, leading=18, spaceAfter=6)
STEP = ParagraphStyle(
    "step",
    parent=BODY,
    leftIndent=22,
    bulletIndent=0,
    bulletFontName="Helvetica-Bold",
    bulletFontSize=BODY_SIZE,
)
HEADING = ParagraphStyle(
    "heading", parent=BODY, fontName="Helvetica-Bold", fontSize=16, leading=20, spaceBefore=8
)
HEADLINE = ParagraphStyle(
    "headline", parent=BODY, fontName="Helvetica-Bold", fontSize=22, leading=26, spaceAfter=8
)
SENDER = ParagraphStyle("sender", parent=HEADING, fontSize=18, leading=22, spaceBefore=0)
STAFF = ParagraphStyle(
    "staff", parent=BODY, fontSize=9, leading=11, textColor=colors.dimgrey, spaceBefore=10
)


@dataclass(frozen=True)
class LetterSender:
    """Who the letter is from: the municipality, and whom to contact with questions."""

    municipality: str
    contact: str


def render_letters_pdf(letters: Sequence[Letter], sender: LetterSender, lang: str = "da") -> bytes:
    """A PDF with one A4 page per letter."""
    gettext = translations(lang).gettext
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=1.2 * cm,
        bottomMargin=1.2 * cm,
        title=gettext("Invitation til spørgeskema"),
        author=sender.municipality,
        lang=lang,
    )
    story: list[Flowable] = []
    for index, letter in enumerate(letters):
        if index:
            story.append(PageBreak())
        # A letter that would run onto a second page is shrunk instead: one sheet per person
        # matters more to the staff who hand them out. Ordinary letters fit with room to spare.
        story.append(
            KeepInFrame(
                document.width,
                document.height,
                _page(letter, sender, lang, gettext, document.width),
                mode="shrink",
            )
        )
    document.build(story)
    return out.getvalue()


def _page(
    letter: Letter,
    sender: LetterSender,
    lang: str,
    _: Callable[[str], str],
    width: float,
) -> list[Flowable]:
    relative = letter.role == InviteRole.RELATIVE
    name = letter.first_name or (_("din pårørende") if relative else "")
    values = {
        "municipality": escape(sender.municipality),
        "contact": escape(sender.contact),
        "name": escape(name),
        "date": format_date(letter.last_day, format="long", locale=lang),
    }

    def p(text: str, style: ParagraphStyle = BODY, bullet: str | None = None) -> Paragraph:
        return Paragraph(text.format(**values), style, bulletText=bullet)

    def lead(title: str, text: str) -> Paragraph:
        # A bold lead-in instead of a heading: easy to find, and it keeps the letter on one page.
        return Paragraph(f"<b>{title.format(**values)}</b> {text.format(**values)}", BODY)

    if relative:
        greeting = (
            _("Til dig, der er pårørende til {name}")
            if letter.first_name
            else _("Til dig, der er pårørende")
        )
        headline = _("Hvordan oplever du hjælpen til {name}?")
        intro = _(
            "{municipality} vil gerne vide, hvordan du oplever den hjælp og pleje, {name} får, "
            "og hvordan du selv bliver mødt. Derfor beder vi dig svare på nogle få spørgsmål "
            "på din telefon, tablet eller computer. Det tager 2-3 minutter."
        )
        voluntary = _(
            "Du bestemmer selv, om du vil svare. Det ændrer ikke noget ved hjælpen til {name}, "
            "om du svarer eller ej."
        )
    else:
        greeting = _("Til {name}") if letter.first_name else ""
        headline = _("Hvordan oplever du hjælpen?")
        intro = _(
            "{municipality} vil gerne vide, hvordan du oplever den hjælp og pleje, du får. "
            "Derfor beder vi dig svare på nogle få spørgsmål på din telefon, tablet eller "
            "computer. "
            "Det tager 2-3 minutter."
        )
        voluntary = _(
            "Du bestemmer selv, om du vil svare. Det ændrer ikke noget ved din hjælp, "
            "om du svarer eller ej."
        )

    steps = [
        p(
            _(
                "Åbn kameraet på din telefon eller tablet, hold det over den firkantede "
                "kode, og tryk på linket."
            ),
            STEP,
            "1.",
        ),
        p(
            _(
                "Tryk på »Svar her«. Du behøver ikke Telegram, men har du det, kan du "
                "trykke på »Åbn i Telegram«."
            ),
            STEP,
            "2.",
        ),
    ]
    # Beside the QR code, under the steps: the code, for those without a camera.
    steps += [
        p(
            _(
                "Intet kamera? Gå ind på {address} på en telefon, tablet eller computer, "
                "og skriv koden:"
            ).replace("{address}", "<b>" + escape(letter.code_address) + "</b>")
        ),
        _code(letter.printed_code),
    ]
    how_to = Table(
        [[_qr_image(letter.web_link), steps]],
        colWidths=[QR_COLUMN, width - QR_COLUMN],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    if letter.reminder:
        headline = _("Husk at svare: hvordan oplever du hjælpen?")
        if relative:
            headline = _("Husk at svare: hvordan oplever du hjælpen til {name}?")
        intro = _(
            "For nylig fik du et brev fra {municipality} med nogle få spørgsmål. Vi har ikke "
            "fået dine svar endnu. Har du allerede svaret, skal du ikke gøre mere. "
            "Det tager 2-3 minutter."
        )
        validity = _(
            "Brevet er personligt. Linket og koden er de samme som i det første brev, og du "
            "fortsætter, hvor du slap. Svar senest {date}."
        )
    else:
        validity = _(
            "Brevet er personligt. Tag linket eller koden i brug senest {date}. Derefter "
            "fører de dig altid tilbage til dine egne svar, så længe du er med."
        )

    page: list[Flowable] = [p("{municipality}", SENDER), Spacer(1, 0.2 * cm)]
    if greeting:
        page.append(p(greeting))
    page += [
        p(headline, HEADLINE),
        p(intro),
        lead(_("Det er frivilligt."), voluntary),
        lead(
            _("Ingen kan se, hvad du har svaret."),
            _(
                "Vi bruger svarene til at gøre hjælpen bedre. Der står ingen navne i vores "
                "rapporter, og medarbejderne kan ikke se, hvad du har svaret."
            ),
        ),
        p(_("Sådan svarer du"), HEADING),
        how_to,
        *_link(_("Eller skriv linket:"), letter.web_link, width),
        lead(
            _("Vil du ikke være med?"),
            _(
                "Så skal du ikke gøre noget. Du kan altid stoppe eller få slettet alt, der kan "
                "kobles til dig: på siden med spørgsmålene, eller med /stop og /slet i Telegram."
            ),
        ),
        lead(_("Har du spørgsmål?"), _("Kontakt {contact}.")),
        p(validity),
        Paragraph(_staff_line(letter, _), STAFF),
    ]
    return page


def _code(code: str) -> Paragraph:
    style = ParagraphStyle(
        "code", parent=BODY, fontName=LINK_FONT, fontSize=20, leading=24, spaceAfter=6
    )
    return Paragraph(escape(code), style)


def _staff_line(letter: Letter, _: Callable[[str], str]) -> str:
    # For the staff who hand out the letters: which citizen a letter belongs to.
    parts = [escape(letter.unit_name)]
    if letter.external_ref:
        parts.append(_("ref. {ref}").format(ref=escape(letter.external_ref)))
    if letter.role == InviteRole.RELATIVE:
        parts.append(
            _("pårørende, brev {number} af {of}").format(number=letter.number, of=letter.of)
        )
    return " · ".join(parts)


def _qr_image(link: str) -> Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=QR_BORDER)
    code.add_data(link)
    code.make(fit=True)
    png = io.BytesIO()
    code.make_image().save(png)
    png.seek(0)
    modules = code.modules_count
    size = QR_SYMBOL * (modules + 2 * QR_BORDER) / modules
    return Image(png, width=size, height=size)


def _link(lead: str, link: str, width: float) -> list[Flowable]:
    # The link in the largest type that fits beside the lead-in, else on a line of its own:
    # a link broken over two lines cannot be typed.
    width -= 12  # the frame's padding
    room = width - stringWidth(lead + " ", BODY.fontName, BODY_SIZE)
    size = next((s for s in LINK_SIZES if stringWidth(link, LINK_FONT, s) <= room), None)
    if size is not None:
        style = ParagraphStyle("link", parent=BODY, spaceAfter=8)
        font = f'<font name="{LINK_FONT}" size="{size}">{escape(link)}</font>'
        return [Paragraph(f"{escape(lead)} {font}", style)]
    size = next((s for s in LINK_SIZES if stringWidth(link, LINK_FONT, s) <= width), LINK_SIZES[-1])
    style = ParagraphStyle(
        "link", parent=BODY, fontName=LINK_FONT, fontSize=size, leading=size + 4, spaceAfter=8
    )
    return [Paragraph(escape(lead), BODY), Paragraph(escape(link), style)]
