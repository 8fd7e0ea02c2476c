from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import segno

from shared.nik import InvalidIdentifier
from shared.proof import ProofOfFilling, format_wib, mask_kk, render_proof_pdf

KK = "1671011234560001"
CODE = "7K3M9QXT2WAB1"  # valid check character
FORMATTED_CODE = "7K3M-9QXT-2WAB-1"
GENERATED = datetime(2026, 11, 24, 7, 6, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

PROOF = ProofOfFilling(
    receipt_code=CODE,
    kk=KK,
    status="needs_review",
    version=2,
    channel="online",
    member_count=4,
    first_submitted_at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
    last_submitted_at=datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
)


def render(proof: ProofOfFilling = PROOF, **kwargs: str) -> bytes:
    return render_proof_pdf(proof, generated_at=GENERATED, **kwargs)


def _require(tool: str) -> None:
    """poppler-utils is a test requirement `make install` installs (.tools/poppler.ok): a
    missing tool fails the test rather than skipping the proof's content checks."""
    assert shutil.which(tool), f"{tool} (poppler-utils) is not installed: run `make install`"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """Text as pdftotext reads it, whitespace collapsed so wrapped values still match."""
    _require("pdftotext")
    source = tmp_path / "proof.pdf"
    source.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, check=True, text=True)
    return " ".join(out.stdout.split())


def to_png(pdf: bytes, tmp_path: Path, dpi: int = 100) -> Path:
    _require("pdftoppm")
    source = tmp_path / "proof.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / f"proof-{dpi}"
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(source), str(prefix)], check=True)
    return prefix.with_suffix(".png")


# mask_kk


def test_mask_kk_keeps_region_and_last_four() -> None:
    assert mask_kk(KK) == "167101******0001"
    assert mask_kk("3201987654321234") == "320198******1234"


@pytest.mark.parametrize(
    "kk",
    ["", "167101123456000", "16710112345600012", "16710112345600O1", "1671 0112345600", f"{KK}\n", "١" * 16],
)
def test_mask_kk_rejects_anything_but_16_ascii_digits(kk: str) -> None:
    with pytest.raises(ValueError):
        mask_kk(kk)


# times


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 24, 7, 5, tzinfo=UTC), "24 November 2026, 14:05 WIB"),
        (datetime(2026, 12, 31, 18, 30, tzinfo=UTC), "1 Januari 2027, 01:30 WIB"),
        (datetime(2026, 8, 1, 0, 0, tzinfo=timezone(timedelta(hours=8))), "31 Juli 2026, 23:00 WIB"),
        (datetime(2026, 5, 3, 2, 9, tzinfo=UTC), "3 Mei 2026, 09:09 WIB"),
    ],
)
def test_times_are_shown_in_wib_with_indonesian_months(moment: datetime, expected: str) -> None:
    assert format_wib(moment) == expected


def test_naive_times_are_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError):
        render(replace(PROOF, last_submitted_at=datetime(2026, 11, 24, 7, 5)))


# the PDF


def test_pdf_is_a_single_page() -> None:
    pdf = render()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


def test_pdf_metadata(tmp_path: Path) -> None:
    _require("pdfinfo")
    source = tmp_path / "proof.pdf"
    source.write_bytes(render())
    info = subprocess.run(["pdfinfo", str(source)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert re.search(r"^Title:\s+Bukti Pengisian Sensus Penduduk Online$", info, re.MULTILINE)
    assert re.search(r"^Creator:\s+Census service$", info, re.MULTILINE)
    assert re.search(r"^Page size:\s+419\.5\d x 595\.2\d pts", info, re.MULTILINE)  # A5


def test_pdf_text_shows_the_receipt(tmp_path: Path) -> None:
    text = pdf_text(render(), tmp_path)
    for expected in (
        "Bukti Pengisian Sensus Penduduk Online",
        "Proof of online census filling",
        FORMATTED_CODE,
        "167101******0001",
        "Waktu pengisian",
        "24 November 2026, 14:05 WIB",
        "20 November 2026, 08:30 WIB",  # first submission differs, so it is shown too
        "Jumlah anggota",
        "Diterima, akan diperiksa (accepted, to be reviewed)",
        "Mandiri daring (online)",
        "Simpan bukti ini. Tidak memuat data pribadi selain nomor KK yang disamarkan.",
        "24 November 2026, 14:06 WIB",  # generated at
    ):
        assert expected in text


def test_pdf_text_shows_member_count_and_version(tmp_path: Path) -> None:
    # Numbers that appear nowhere else on the page; pdftotext may read the table column-wise.
    text = pdf_text(render(replace(PROOF, member_count=11, version=3)), tmp_path)
    assert re.search(r"(?<![\w*:-])11(?![\w*:-])", text)
    assert re.search(r"(?<![\w*:-])3(?![\w*:-])", text)
    assert "Jumlah anggota" in text and "Members" in text
    assert "Versi" in text and "Version" in text


def test_pdf_never_holds_the_full_kk(tmp_path: Path) -> None:
    pdf = render()
    assert KK.encode() not in pdf
    assert KK not in pdf_text(pdf, tmp_path).replace(" ", "")


def test_first_submission_is_omitted_when_it_is_the_last(tmp_path: Path) -> None:
    proof = replace(PROOF, first_submitted_at=PROOF.last_submitted_at, version=1)
    text = pdf_text(render(proof), tmp_path)
    assert "First submitted" not in text
    assert text.count("14:05 WIB") == 1


@pytest.mark.parametrize(
    ("status", "channel", "expected"),
    [
        ("clean", "online", ["Diterima (accepted)", "Mandiri daring (online)"]),
        ("interviewed", "interview", ["Dicacah petugas (interviewed)", "Wawancara (interview)"]),
        ("withdrawn", "phone", ["withdrawn", "phone"]),
    ],
)
def test_status_and_channel_in_words(status: str, channel: str, expected: list[str], tmp_path: Path) -> None:
    text = pdf_text(render(replace(PROOF, status=status, channel=channel)), tmp_path)
    for words in expected:
        assert words in text


def test_text_outside_latin1_does_not_break_the_core_fonts(tmp_path: Path) -> None:
    pdf = render(replace(PROOF, status="ditolak — “x”"), verify_url="https://sensus.example/s?k=é—")
    assert "ditolak ? ?x?" in pdf_text(pdf, tmp_path)


def test_receipt_code_is_normalized_and_checked() -> None:
    assert render(replace(PROOF, receipt_code="7k3m-9qxt-2wab-1")) == render()
    with pytest.raises(InvalidIdentifier):
        render(replace(PROOF, receipt_code="7K3M9QXT2WAB2"))


def test_same_input_gives_the_same_bytes() -> None:
    assert render() == render()
    assert render() != render(replace(PROOF, member_count=5))


def test_verify_url_is_printed_under_the_qr(tmp_path: Path) -> None:
    url = f"https://sensus.example.go.id/status?kode={CODE}"
    text = pdf_text(render(verify_url=url), tmp_path)
    assert url in text
    assert "Pindai kode QR" in text


def qr_modules(png: Path, size: int) -> list[list[bool]]:
    """The QR as printed: only its modules are pure black, so their bounding box is the symbol."""
    from PIL import Image  # Pillow: a dependency of fpdf2, so always installed

    with Image.open(png) as opened:
        grey = opened.convert("L")
    box = grey.point(lambda v: 255 if v <= 8 else 0).getbbox()
    assert box is not None, "no QR on the page"
    left, top, right, bottom = box
    assert abs((right - left) - (bottom - top)) <= 2, "the QR is not square"
    step_x, step_y = (right - left) / size, (bottom - top) / size
    return [
        [grey.getpixel((left + (col + 0.5) * step_x, top + (row + 0.5) * step_y)) < 128 for col in range(size)]
        for row in range(size)
    ]


@pytest.mark.parametrize("verify_url", [None, f"https://sensus.example.go.id/status?kode={CODE}"])
def test_printed_qr_matches_segno_symbol(verify_url: str | None, tmp_path: Path) -> None:
    expected = segno.make(verify_url or CODE, error="m", micro=False, boost_error=False)
    assert expected.error == "M"
    png = to_png(render_proof_pdf(PROOF, verify_url=verify_url, generated_at=GENERATED), tmp_path, dpi=150)
    want = [[bool(bit) for bit in row] for row in expected.matrix]
    assert qr_modules(png, len(want)) == want


def test_sample_png_for_people_to_look_at(tmp_path: Path) -> None:
    png = to_png(render(), tmp_path)
    assert png.stat().st_size > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(png, ARTIFACTS / "proof-sample.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
