"""The receipt as a PDF (A4, fpdf2's core fonts): the same words as the
printed pages (`receipt_view`), the tracking code in large type and its QR
code as an image linking to the public tracking page."""

from __future__ import annotations

import io
import unicodedata

from fpdf import FPDF

from mpp_intake.api.receipt_view import Line, ReceiptView
from mpp_shared.web.qr import qr_png

# What the core fonts (Latin-1) cannot draw, written as they can.
_PLAIN = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "•": "-",
        "€": "EUR",
    }
)
_WIDTH = 180  # mm between the margins of an A4 page
_QR_MM = 42


def latin1(text: str) -> str:
    """`text` in the core fonts' Latin-1: punctuation written plainly, a
    character outside Latin-1 by its compatibility form without accents
    ("№" -> "No", "ǅ" -> "Dz"), or else as "?"."""
    out = []
    for char in text.translate(_PLAIN):
        if ord(char) < 256:
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(plain if plain and all(ord(c) < 256 for c in plain) else "?")
    return "".join(out)


class _Receipt(FPDF):
    def heading(self, text: str) -> None:
        self.set_font("Helvetica", "B", 11)
        self.multi_cell(_WIDTH, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def para(self, text: str, *, bold: bool = False, size: int = 10) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(_WIDTH, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def line_of(self, line: Line) -> None:
        self.para(f"{line.label}: {line.value}")

    def items(self, values: list[str]) -> None:
        for value in values:
            self.para(f"- {value}")

    def gap(self) -> None:
        self.ln(2)


def receipt_pdf(view: ReceiptView) -> bytes:
    pdf = _Receipt(format="A4")
    pdf.set_title(latin1(f"{view.title} {view.code}"))
    pdf.set_author(latin1(view.office_name))
    pdf.set_lang(view.language)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    pdf.para(view.office_name, bold=True, size=12)
    pdf.para(view.title, bold=True, size=16)
    if view.copy_note:
        pdf.para(view.copy_note, bold=True)
    pdf.gap()

    top = pdf.get_y()
    pdf.image(
        io.BytesIO(qr_png(view.tracking_url)),
        x=15 + _WIDTH - _QR_MM,
        y=top,
        w=_QR_MM,
        h=_QR_MM,
        link=view.tracking_url,
        alt_text=view.qr_alt,
    )
    text_width = _WIDTH - _QR_MM - 4
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(text_width, 5, latin1(view.code_label), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "B", 26)
    pdf.multi_cell(text_width, 12, latin1(view.code), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(text_width, 4.5, latin1(view.qr_caption), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(11, 79, 156)
    pdf.multi_cell(
        text_width,
        4.5,
        latin1(view.tracking_url),
        new_x="LMARGIN",
        new_y="NEXT",
        link=view.tracking_url,
    )
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(pdf.get_y(), top + _QR_MM) + 3)

    pdf.line_of(view.service)
    pdf.line_of(view.status)
    pdf.line_of(view.next_step)
    pdf.line_of(view.promise)
    pdf.gap()
    pdf.heading(view.handed_in_label)
    pdf.items(view.handed_in)
    pdf.gap()
    pdf.heading(view.missing_label)
    pdf.items(view.missing or [view.nothing_missing])
    pdf.gap()
    pdf.heading(view.point_label)
    pdf.para(view.point_name, bold=True)
    if view.point_address:
        pdf.para(view.point_address)
    if view.hours:
        pdf.para(f"{view.hours_label}: " + "; ".join(view.hours))
    pdf.gap()
    pdf.heading(f"{view.fee.label}: {view.fee.value}")
    pdf.para(view.free_statement, bold=True)
    pdf.para(view.report_money)
    pdf.gap()
    pdf.heading(view.channels_label)
    pdf.items(view.channels)
    pdf.gap()
    pdf.line_of(view.counter)
    pdf.line_of(view.received)
    pdf.line_of(view.printed)
    pdf.gap()
    pdf.para(view.keep_note, size=9)
    return bytes(pdf.output())
