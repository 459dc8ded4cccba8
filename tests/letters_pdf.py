"""Reading printed letters back as a person (and a phone camera) would: text, type size, QR."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import Any

import pypdfium2  # type: ignore[import-untyped]
import zxingcpp
from pypdf import PdfReader

LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=[A-Za-z0-9_-]+")
WEB_LINK = re.compile(r"https?://[A-Za-z0-9.:-]+(?:/[A-Za-z0-9._-]+)*/l/[A-Za-z0-9_-]+")
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}\b")
CM_PER_POINT = 2.54 / 72


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, with line breaks and runs of blanks as single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def links_on(text: str) -> list[str]:
    """The deep links written out on a page."""
    return LINK.findall(text)


def web_links_on(text: str) -> list[str]:
    """The web links (``<PUBLIC_URL>/l/<token>``) written out on a page."""
    return WEB_LINK.findall(text)


def codes_on(text: str) -> list[str]:
    """The short codes (``K7QM-2XPA-9D``) printed on a page."""
    return CODE.findall(text)


def type_sizes(pdf: bytes, page: int) -> list[tuple[float, str]]:
    """Every run of text on a page with its size in points."""
    runs: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            runs.append((size * abs(tm[3]) * abs(cm[3]), text.strip()))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return runs


@dataclass(frozen=True)
class ScannedCode:
    text: str
    width_cm: float


def scan_qr(pdf: bytes, page: int, dpi: int = 150) -> list[ScannedCode]:
    """The QR codes on a page as a camera finds them, with their printed width."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    found = []
    for result in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    ):
        corners = result.position
        pixels = math.dist(
            (corners.top_left.x, corners.top_left.y), (corners.top_right.x, corners.top_right.y)
        )
        found.append(ScannedCode(result.text, pixels / (dpi / 72) * CM_PER_POINT))
    return found
