"""Draw the picture of a letter shown in the README (docs/letter.png) from a made-up invite.

    .venv/bin/python scripts/letter_picture.py [docs/letter.png] [--lang en]

Needs the development extra (pypdfium2 turns the PDF page into a picture).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]

from storage.models import InviteRole
from surveys.letters.invitations import Letter
from surveys.letters.pdf import LetterSender, render_letters_pdf

TOKEN = "Xq3vT9kLm2PzR8wYb5NcJ7hGd4FsA1eU"  # made up: it opens nothing
SENDER = LetterSender("Testrup Kommune", "Ældreservice, tlf. 70 11 22 33")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default="docs/letter.png")
    parser.add_argument("--lang", default="da", choices=["da", "en"])
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args()
    letter = Letter(
        role=InviteRole.CITIZEN,
        unit_name="Plejecenter Åbakken",
        first_name="Anna",
        external_ref="B-0042",
        number=1,
        of=1,
        link=f"https://t.me/testrup_pejling_bot?start={TOKEN}",
        token=TOKEN,
        expires_at=datetime(2027, 3, 1, 12, tzinfo=UTC) + timedelta(days=1),
        web_link=f"https://pejling.testrup.dk/l/{TOKEN}",
        code="K7QM2XPA9D",
        code_address="https://pejling.testrup.dk/kode",
    )
    document = pypdfium2.PdfDocument(render_letters_pdf([letter], SENDER, args.lang))
    try:
        page = document[0].render(scale=args.dpi / 72).to_pil().convert("L")
    finally:
        document.close()
    page.save(Path(args.output), optimize=True)
    print(f"{args.output}: {page.width}x{page.height} pixels")


if __name__ == "__main__":
    main()
