"""The printable proof of filling: one A5 page a household can keep to show it responded.

It carries only what the household already knows plus the receipt code; the KK number is
masked so a lost printout does not hand out the family card number. Rendering uses fpdf2's
core fonts only (no font files to ship in the Lambda layer), so every string must be Latin-1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import segno
from fpdf import FPDF
from fpdf.drawing import GraphicsContext, PaintedPath, PathPaintRule
from fpdf.enums import MethodReturnValue, WrapMode, XPos, YPos

from shared.receipts import format_receipt_code, normalize_receipt_code


@dataclass(frozen=True)
class ProofOfFilling:
    receipt_code: str  # canonical 13 characters
    kk: str  # 16 digits; never printed in full
    status: str  # "clean", "needs_review", "interviewed", ...
    version: int
    channel: str  # "online" | "interview"
    member_count: int
    first_submitted_at: datetime  # aware, UTC
    last_submitted_at: datetime  # aware, UTC


_KK = re.compile(r"[0-9]{16}")
WIB = timezone(timedelta(hours=7), "WIB")
_MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_STATUS = {
    "clean": "Diterima (accepted)",
    "needs_review": "Diterima, akan diperiksa (accepted, to be reviewed)",
    "interviewed": "Dicacah petugas (interviewed)",
}
_CHANNEL = {
    "online": "Mandiri daring (online)",
    "interview": "Wawancara (interview)",
}

KICKER = "SENSUS PENDUDUK  |  POPULATION CENSUS"
TITLE = "Bukti Pengisian Sensus Penduduk Online"
SUBTITLE = "Proof of online census filling"
FOOTER = "Simpan bukti ini. Tidak memuat data pribadi selain nomor KK yang disamarkan."
FOOTER_EN = "Keep this proof. It holds no personal data but the masked KK number."

# Page geometry in millimetres (A5 portrait).
_PAGE_W = 148.0
_PAGE_H = 210.0
_MARGIN = 14.0
_CONTENT_W = _PAGE_W - 2 * _MARGIN
_LABEL_W = 44.0
_PAD = 3.0
_ROW_H = 10.5
_LINE_H = 4.6
_QR_SIZE = 28.0  # the symbol itself; the quiet zone is left blank around it
_MAX_PRINTED_URL = 160  # longer would crowd the footer; the QR still carries it

_NAVY = (22, 58, 104)
_RED = (200, 16, 46)
_INK = (25, 25, 25)
_GREY = (105, 105, 105)
_RULE = (205, 210, 218)
_TINT = (240, 244, 249)
_PALE = (214, 226, 240)


def mask_kk(kk: str) -> str:
    """Keeps the region code (first 6) and the last 4 so a household recognises its card."""
    if not isinstance(kk, str) or not _KK.fullmatch(kk):
        raise ValueError("A KK number has exactly 16 digits.")
    return kk[:6] + "*" * 6 + kk[-4:]


def format_wib(moment: datetime) -> str:
    """Residents read times in Western Indonesian Time with Indonesian month names."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Submission times must be timezone-aware.")
    local = moment.astimezone(WIB)
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M} WIB"


def _latin1(text: str) -> str:
    """Core PDF fonts only cover Latin-1; an odd raw status must not crash the receipt."""
    return text.encode("latin-1", errors="replace").decode("latin-1")


def _rows(proof: ProofOfFilling) -> Iterator[tuple[str, str, str]]:
    submitted = format_wib(proof.last_submitted_at)
    first = format_wib(proof.first_submitted_at)
    yield "Nomor KK", "Family card number", mask_kk(proof.kk)
    yield "Waktu pengisian", "Submitted", submitted
    if first != submitted:
        yield "Pertama kali diisi", "First submitted", first
    yield "Versi", "Version", str(proof.version)
    yield "Jumlah anggota", "Members", str(proof.member_count)
    yield "Status", "Status", _latin1(_STATUS.get(proof.status, proof.status))
    yield "Saluran", "Channel", _latin1(_CHANNEL.get(proof.channel, proof.channel))


class _Receipt(FPDF):
    """The page drawn top to bottom; each block takes its top edge and returns its bottom one."""

    def colour(self, rgb: tuple[int, int, int]) -> None:
        self.set_text_color(*rgb)

    def label(self, x: float, y: float, h: float, indonesian: str, english: str) -> None:
        """Bilingual label: Indonesian first, English underneath in grey."""
        if english == indonesian:
            self.set_xy(x + _PAD, y + h / 2 - 2.15)
            self.set_font("Helvetica", "B", 9)
            self.colour(_INK)
            self.cell(_LABEL_W - 2 * _PAD, 4.3, indonesian)
            return
        self.set_xy(x + _PAD, y + h / 2 - 4.3)
        self.set_font("Helvetica", "B", 9)
        self.colour(_INK)
        self.cell(_LABEL_W - 2 * _PAD, 4.3, indonesian)
        self.set_xy(x + _PAD, y + h / 2 + 0.2)
        self.set_font("Helvetica", "I", 7.5)
        self.colour(_GREY)
        self.cell(_LABEL_W - 2 * _PAD, 3.6, english)

    def qr(self, data: str, x: float, y: float, size: float) -> None:
        """Vector modules stay crisp at any print resolution; one path avoids hairline seams."""
        symbol = segno.make(data, error="m", micro=False, boost_error=False)
        modules = symbol.matrix
        step = size / len(modules)
        path = PaintedPath()
        path.style.paint_rule = PathPaintRule.FILL_NONZERO
        path.style.fill_color = "#000000"
        path.style.stroke_color = None
        for row_index, row in enumerate(modules):
            top = y + row_index * step
            column = 0
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                path.rectangle(x + start * step, top, (column - start) * step, step)
        # No copies: the path is ours alone, and deep-copying it costs more than drawing it.
        group = GraphicsContext()
        group.add_item(path, clone=False)
        self.draw_path(group, copy=False)

    def header_band(self) -> float:
        """Full-bleed navy band with a thin red rule: reads as an official document at a glance."""
        band_h = 27.0
        self.set_fill_color(*_NAVY)
        self.rect(0, 0, _PAGE_W, band_h, style="F")
        self.set_fill_color(*_RED)
        self.rect(0, band_h, _PAGE_W, 1.2, style="F")
        self.colour((255, 255, 255))
        self.set_xy(_MARGIN, 6.5)
        self.set_font("Helvetica", "", 7.5)
        self.cell(_CONTENT_W, 4, KICKER, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", "B", 14)
        self.cell(_CONTENT_W, 8, TITLE, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", "I", 9)
        self.colour(_PALE)
        self.cell(_CONTENT_W, 4.5, SUBTITLE)
        return band_h + 1.2

    def code_box(self, y: float, code: str) -> float:
        """The receipt code is what people copy down or read out, so it gets the most room."""
        code_h = 21.0
        self.set_draw_color(*_NAVY)
        self.set_line_width(0.5)
        self.set_fill_color(*_TINT)
        self.rect(_MARGIN, y, _CONTENT_W, code_h, style="DF", round_corners=True, corner_radius=2)
        self.set_xy(_MARGIN + _PAD + 1, y + 3)
        self.set_font("Helvetica", "B", 9)
        self.colour(_INK)
        self.cell(self.get_string_width("Kode Bukti") + 1.5, 4.5, "Kode Bukti")
        self.set_font("Helvetica", "I", 7.5)
        self.colour(_GREY)
        self.cell(40, 4.5, "/  Receipt code")
        self.set_xy(_MARGIN, y + 9)
        self.set_font("Courier", "B", 22)
        self.colour(_NAVY)
        self.cell(_CONTENT_W, 10, code, align="C")
        return y + code_h

    def detail_table(self, y: float, rows: list[tuple[str, str, str]]) -> float:
        value_x = _MARGIN + _LABEL_W + _PAD
        value_w = _CONTENT_W - _LABEL_W - 2 * _PAD
        top = y
        self.set_line_width(0.2)
        for index, (indonesian, english, value) in enumerate(rows):
            # Monospace KK: digits line up and the mask reads as deliberate.
            font = ("Courier", "B", 10.5) if indonesian == "Nomor KK" else ("Helvetica", "", 10.0)
            self.set_font(*font)
            lines = self.value_lines(value, value_w)
            row_h = max(_ROW_H, len(lines) * _LINE_H + 4.0)
            self.set_fill_color(*_TINT)
            self.rect(_MARGIN, y, _LABEL_W, row_h, style="F")
            if index:
                self.set_draw_color(*_RULE)
                self.line(_MARGIN, y, _MARGIN + _CONTENT_W, y)
            self.label(_MARGIN, y, row_h, indonesian, english)  # first, so text extraction reads in order
            self.set_font(*font)
            self.colour(_INK)
            self.set_xy(value_x, y + (row_h - len(lines) * _LINE_H) / 2)
            for line in lines:
                self.cell(value_w, _LINE_H, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
            y += row_h
        self.set_draw_color(*_RULE)
        self.set_line_width(0.3)
        self.rect(_MARGIN, top, _CONTENT_W, y - top, style="D")
        self.line(_MARGIN + _LABEL_W, top, _MARGIN + _LABEL_W, y)
        return y

    def value_lines(self, value: str, width: float) -> list[str]:
        """A long bilingual value breaks before its English bracket rather than mid-phrase."""
        room = width - 2 * self.c_margin
        if self.get_string_width(value) <= room:
            return [value]
        head, bracket, tail = value.partition(" (")
        if bracket and max(self.get_string_width(head), self.get_string_width("(" + tail)) <= room:
            return [head, "(" + tail]
        lines = self.multi_cell(width, _LINE_H, value, dry_run=True, output=MethodReturnValue.LINES)
        assert isinstance(lines, list)
        return [str(line) for line in lines]

    def qr_block(self, y: float, data: str, verify_url: str | None) -> float:
        self.qr(data, _MARGIN + 2, y, _QR_SIZE)
        caption_x = _MARGIN + _QR_SIZE + 10
        caption_w = _PAGE_W - _MARGIN - caption_x
        if verify_url:
            indonesian = "Pindai kode QR untuk memeriksa status pengisian."
            english = "Scan the QR code to check the filling status."
        else:
            indonesian = "Kode QR berisi kode bukti di atas."
            english = "The QR code holds the receipt code above."
        self.set_xy(caption_x, y + 4)
        self.set_font("Helvetica", "B", 9)
        self.colour(_INK)
        self.multi_cell(caption_w, 4.3, indonesian, new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font("Helvetica", "I", 8)
        self.colour(_GREY)
        self.multi_cell(caption_w, 4, english, new_x=XPos.LEFT, new_y=YPos.NEXT)
        if verify_url and len(verify_url) <= _MAX_PRINTED_URL:
            # Printed too, for whoever has no scanner; shrunk to one line when it can be.
            url = _latin1(verify_url)
            self.set_xy(caption_x, self.get_y() + 2)
            size = 7.0
            self.set_font("Courier", "", size)
            while size > 5.5 and self.get_string_width(url) > caption_w - 2 * self.c_margin:
                size -= 0.25
                self.set_font("Courier", "", size)
            self.multi_cell(caption_w, 3.4, url, wrapmode=WrapMode.CHAR)
        return y + _QR_SIZE

    def footer_block(self, generated: str) -> None:
        foot_y = _PAGE_H - _MARGIN - 13
        self.set_draw_color(*_RULE)
        self.set_line_width(0.3)
        self.line(_MARGIN, foot_y, _PAGE_W - _MARGIN, foot_y)
        self.set_xy(_MARGIN, foot_y + 2)
        self.set_font("Helvetica", "B", 8)
        self.colour(_INK)
        self.cell(_CONTENT_W, 4, FOOTER, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", "I", 7.5)
        self.colour(_GREY)
        self.cell(_CONTENT_W, 4, FOOTER_EN, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", "", 7.5)
        self.cell(_CONTENT_W, 4, f"Dibuat / Generated: {generated}")


def render_proof_pdf(
    proof: ProofOfFilling, *, verify_url: str | None = None, generated_at: datetime | None = None
) -> bytes:
    """One printable page. The same proof and generated_at always give the same bytes.

    generated_at (the footer's timestamp) defaults to now; pass it to pin the output.
    """
    canonical = normalize_receipt_code(proof.receipt_code)
    rows = list(_rows(proof))
    generated = format_wib(generated_at or datetime.now(UTC))

    # A size tuple, not "A5": fpdf2 2.8.x warns on every use of "A5" about an old fix.
    pdf = _Receipt(orientation="P", unit="mm", format=(_PAGE_W, _PAGE_H))
    pdf.set_title(TITLE)
    pdf.set_subject(SUBTITLE)
    pdf.set_creator("Census service")
    pdf.set_lang("id")
    pdf.set_creation_date(proof.last_submitted_at)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.add_page()

    y = pdf.header_band()
    y = pdf.code_box(y + 7, format_receipt_code(canonical))
    y = pdf.detail_table(y + 5, rows)
    pdf.qr_block(y + 7, verify_url or canonical, verify_url)
    pdf.footer_block(generated)
    return bytes(pdf.output())
