"""The receipt as it is printed, rendered from a `Receipt` without a running
service: the thermal and A4 pages (what a person reads, no NIK or name), and
the PDF (its text, and its QR code decoded back to the tracking page)."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import zxingcpp
from pypdf import PdfReader
from starlette.requests import Request

from mpp_intake.api.receipt_pdf import latin1, receipt_pdf
from mpp_intake.api.receipt_view import receipt_view
from mpp_intake.domain.catalog import PickupPoint
from mpp_intake.settings import IntakeSettings
from mpp_intake.usecases.application_views import MissingRequirement
from mpp_intake.usecases.receipts import Receipt
from mpp_shared.web.pages import Pages
from mpp_shared.web.qr import qr_svg_data_uri
from tests.e2e.test_intake_pages import HtmlPage, squeeze

CODE = "7KQ2M4XH9C"
TRACKING_URL = f"https://mpp.example.go.id/track/{CODE}"
POINT = PickupPoint(
    code="MPP",
    name="Mal Pelayanan Publik Kabupaten Kediri",
    kind="mpp",
    region_code="3506",
    address="Kawasan Simpang Lima Gumul, Desa Tugurejo, Kecamatan Ngasem",
    opening_hours={
        "mon": ["08:00", "15:00"],
        "tue": ["08:00", "15:00"],
        "wed": ["08:00", "15:00"],
        "thu": ["08:00", "15:00"],
        "fri": ["08:00", "11:00"],
        "sat": None,
        "sun": None,
    },
    daily_capacity=300,
    serves_regions=(),
)
MISSING = "Buku nikah / akta perkawinan orang tua atau SPTJM kebenaran sebagai pasangan suami istri"
RECEIPT = Receipt(
    application_id=uuid.uuid4(),
    language="id",
    tracking_code=CODE,
    tracking_url=TRACKING_URL,
    service_code="akta_kelahiran",
    service_name="Akta Kelahiran",
    status="incomplete",
    progress="incomplete",
    channel="mpp_desk",
    counter="MPP-07",
    submitted_at=datetime(2025, 3, 3, 2, 15, tzinfo=UTC),
    papers_handed_in=("Kartu Keluarga", "KTP-el ayah dan ibu"),
    papers_missing=(MissingRequirement(code="buku_nikah_orang_tua", name=MISSING),),
    next_step=f"Lengkapi persyaratan berikut: {MISSING}",
    expected_ready_at=None,
    sla_amount=1,
    sla_unit="working_days",
    pickup_point=POINT,
    fee_idr=0,
    complaint_url="https://pengaduan.example.go.id/complaints/new",
    complaint_category="pungli",
    printed_at=datetime(2025, 3, 3, 2, 20, tzinfo=UTC),
    print_number=1,
)


def render(receipt: Receipt, template: str) -> HtmlPage:
    pages = Pages("mpp_intake", IntakeSettings(office_name="MPP Kabupaten Kediri"))
    language = receipt.language.encode()
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/v1/applications/x/receipt",
            "query_string": b"lang=" + language,
            "headers": [],
        }
    )
    view = receipt_view(receipt, "MPP Kabupaten Kediri")
    answer = pages.render(request, template, v=view, qr=qr_svg_data_uri(view.tracking_url))
    return HtmlPage(bytes(answer.body).decode())


@pytest.mark.parametrize("template", ["receipt_thermal.html", "receipt_a4.html"])
def test_the_printed_page_says_what_the_citizen_needs(template: str) -> None:
    page = render(RECEIPT, template)
    assert page.lang == "id"
    assert [h.text for h in page.all("h1")] == ["Tanda Terima Permohonan"]
    assert [e.text for e in page.all(cls="code")] == [CODE]
    assert page.items("missing") == [MISSING]
    assert page.items("handed-in") == ["Kartu Keluarga", "KTP-el ayah dan ibu"]
    assert page.by_id("pickup-address").text == POINT.address
    assert page.items("hours") == [
        "Senin–Kamis 08.00–15.00",
        "Jumat 08.00–11.00",
        "Sabtu–Minggu tutup",
    ]
    assert page.by_id("fee").text.startswith("Biaya: Rp 0 (gratis)")
    assert "https://pengaduan.example.go.id/complaints/new" in page.by_id("fee").text
    assert "Pungutan liar (pungli)" in page.by_id("fee").text
    assert page.by_id("counter").text == "MPP-07 · Loket Mal Pelayanan Publik"
    assert page.by_id("received").text == "Senin, 3 Maret 2025 pukul 09.15 WIB"
    assert page.by_id("promise").text == (
        "Ditetapkan setelah persyaratan lengkap: 1 hari kerja sejak berkas lengkap"
    )
    assert page.by_id("qr").attrs["alt"].startswith("QR")
    assert TRACKING_URL in page.by_id("qr").attrs["alt"]
    assert "Cetak ulang" not in page.text


def test_a_reprint_a_promise_and_nothing_missing() -> None:
    receipt = replace(
        RECEIPT,
        print_number=3,
        papers_missing=(),
        status="submitted",
        progress="submitted",
        expected_ready_at=datetime(2025, 3, 4, 8, 0, tzinfo=UTC),
    )
    page = render(receipt, "receipt_thermal.html")
    assert "Cetak ulang (cetakan ke-3)" in page.text
    assert not page.has_id("missing")
    assert page.by_id("nothing-missing").text == "Tidak ada: persyaratan lengkap"
    assert page.by_id("promise").text == "Selasa, 4 Maret 2025 pukul 15.00 WIB (1 hari kerja)"


def test_the_receipt_in_english() -> None:
    receipt = replace(RECEIPT, language="en", counter=None, channel="online")
    page = render(receipt, "receipt_a4.html")
    assert page.lang == "en"
    assert page.all("h1")[0].text == "Application Receipt"
    assert page.by_id("fee").text.startswith("Fee: Rp 0 (free of charge)")
    assert page.by_id("counter").text == "Online application"
    assert page.by_id("received").text == "Monday, 3 March 2025 at 09:15 WIB"


def test_the_pdf_has_the_same_words_and_a_qr_code_opening_the_tracking_page() -> None:
    content = receipt_pdf(receipt_view(RECEIPT, "MPP Kabupaten Kediri"))
    assert content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(content))
    text = squeeze(" ".join(page.extract_text() for page in reader.pages))
    for seen in (
        "Tanda Terima Permohonan",
        CODE,
        MISSING,
        POINT.address,
        "Senin-Kamis 08.00-15.00",  # the core fonts have no en dash
        "Biaya: Rp 0 (gratis)",
        "Layanan ini GRATIS",
        "Pungutan liar (pungli)",
        "Loket: MPP-07",
    ):
        assert seen in text, seen
    images = [image.image for page in reader.pages for image in page.images]
    decoded = [b.text for image in images for b in zxingcpp.read_barcodes(image)]
    assert decoded == [TRACKING_URL]


def test_the_pdf_survives_text_its_fonts_cannot_draw() -> None:
    assert latin1("Senin–Kamis “08.00”…") == 'Senin-Kamis "08.00"...'
    assert latin1("Kantor Kecamatan Gurah · Jl. Raya") == "Kantor Kecamatan Gurah · Jl. Raya"
    assert latin1("Désa Sukoréjo № 5 ǅ 漢 Đ") == "Désa Sukoréjo No 5 Dz ? ?"
    point = replace(POINT, address="Jl. Sultan Agung № 5 – Ngasem ✓")
    content = receipt_pdf(receipt_view(replace(RECEIPT, pickup_point=point), "MPP"))
    text = squeeze(PdfReader(io.BytesIO(content)).pages[0].extract_text())
    assert "Jl. Sultan Agung No 5 - Ngasem ?" in text
