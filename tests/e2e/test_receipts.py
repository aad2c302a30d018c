"""The receipt (tanda terima) the counter hands the citizen, over HTTP on the
running stack: printed for a thermal printer, on A4 and as a PDF; what a
person reads on it (the tracking code, the missing paper named as at the
counter, the pickup point's address, Rp 0, the counter), its QR code opening
the live tracking page, no NIK, name or phone anywhere, every print audited,
and only the counter's officers may print it."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import zxingcpp
from pypdf import PdfReader

from mpp_devstack.stack import Stack
from tests.e2e.test_intake_pages import MONTHS_ID, HtmlPage, pickup_point, read_page, squeeze
from tests.privacy import PersonalDataDetector
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import Phone, nik, phone

FULL_NAME = "Wulandari Setyaningsih"
TAKEN_AT = "MPP-07"  # the counter the application is taken at
WIB = ZoneInfo("Asia/Jakarta")
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


async def take_incomplete_birth_certificate(
    http: httpx.AsyncClient, intake: str
) -> tuple[dict[str, Any], str, Phone]:
    """An akta kelahiran taken at counter MPP-07 without the parents' marriage
    proof: (the counter's answer, the NIK, the phone)."""
    resident, mobile = nik("350625"), phone("0878")  # Ngasem: collected at the MPP
    created = expect(
        await http.post(
            f"{intake}/v1/applications",
            json={
                "service_code": "akta_kelahiran",
                "nik": resident,
                "full_name": FULL_NAME,
                "phone": mobile.typed,
                "channel": "mpp_desk",
                "documents": ["surat_keterangan_lahir", "kartu_keluarga", "ktp_el_orang_tua"],
            },
            headers=auth("frontdesk", subject="desk-07", counter=TAKEN_AT),
        ),
        201,
    )
    assert created["status"] == "incomplete" and created["pickup_point"] == "MPP"
    assert [m["code"] for m in created["missing_requirements"]] == ["buku_nikah_orang_tua"]
    return created, resident, mobile


def pdf_text_and_qr(content: bytes) -> tuple[str, list[str]]:
    """The PDF's text (white space squeezed) and what its QR images say."""
    reader = PdfReader(io.BytesIO(content))
    text = squeeze(" ".join(page.extract_text() for page in reader.pages))
    decoded = [
        barcode.text
        for page in reader.pages
        for image in page.images
        for barcode in zxingcpp.read_barcodes(image.image)
    ]
    return text, decoded


def no_personal_data(text: str, resident: str, mobile: Phone) -> None:
    for secret in (resident, mobile.typed, mobile.e164, mobile.international, *FULL_NAME.split()):
        assert secret not in text, secret
    assert PersonalDataDetector().find(text) == []


async def test_receipt_in_every_format_says_what_the_citizen_needs_and_never_who_they_are(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    created, resident, mobile = await take_incomplete_birth_certificate(http, intake)
    code, missing = created["tracking_code"], created["missing_requirements"][0]["name"]
    url = f"{intake}/v1/applications/{created['id']}/receipt"
    point = await pickup_point(http, intake, "MPP")
    # Printed by another officer at another counter: the receipt names the counter it was taken at.
    printer = auth("verifier", counter="MPP-02")

    for receipt_format, page_rule in (("thermal", "size: 80mm"), ("a4", "size: A4")):
        answer = await http.get(url, params={"format": receipt_format}, headers=printer)
        page = read_page(answer)
        assert page_rule in answer.text
        assert answer.headers["cache-control"] == "no-store"
        assert page.lang == "id"
        assert page.all("h1")[0].text == "Tanda Terima Permohonan"
        assert page.title.startswith(f"Tanda Terima Permohonan {code}")
        assert [e.text for e in page.all(cls="code")] == [code]
        assert page.items("missing") == [missing]
        assert "Kartu Keluarga" in page.items("handed-in")
        assert page.by_id("service").text == "Akta Kelahiran"
        assert page.by_id("pickup-address").text == point["address"]
        assert point["name"] in page.by_id("pickup-point").text
        assert "Senin–Kamis 08.00–15.00" in page.items("hours")
        assert "Rp 0" in page.by_id("fee").text and "GRATIS" in page.by_id("fee").text
        assert "Pungutan liar" in page.by_id("fee").text
        assert stack.services["complaints"].url + "/complaints/new" in page.by_id("fee").text
        assert page.by_id("counter").text.startswith(TAKEN_AT)
        assert "MPP-02" not in page.text
        assert page.by_id("promise").text.startswith("Ditetapkan setelah persyaratan lengkap")
        qr = page.by_id("qr")
        assert qr.tag == "img" and qr.attrs["alt"].startswith("QR")
        assert qr.attrs["src"].startswith("data:image/svg+xml")
        no_personal_data(answer.text, resident, mobile)

    answer = await http.get(url, params={"format": "pdf"}, headers=printer)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    text, decoded = pdf_text_and_qr(answer.content)
    for seen in (code, squeeze(missing), squeeze(point["address"]), "Rp 0", TAKEN_AT):
        assert seen in text, seen
    assert "Tanda Terima Permohonan" in text and "Pungutan liar" in text
    no_personal_data(text, resident, mobile)

    # The QR code opens the live tracking page of this application.
    assert decoded == [f"{intake}/track/{code}"]
    tracking = read_page(await http.get(decoded[0]))
    assert tracking.all(cls="code")[0].text == code
    assert tracking.items("missing") == [missing]


async def test_every_print_is_audited_and_a_reprint_says_so(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    created, _, _ = await take_incomplete_birth_certificate(http, intake)
    url = f"{intake}/v1/applications/{created['id']}/receipt"
    first = read_page(await http.get(url, headers=auth("frontdesk", subject="desk-07")))
    assert "Cetak ulang" not in first.text

    # The missing paper is brought: complete now, with the promised date.
    completed = expect(
        await http.post(
            f"{intake}/v1/applications/{created['id']}/documents",
            json={"documents": ["sptjm_pasangan"]},
            headers=auth("frontdesk"),
        )
    )
    promised = datetime.fromisoformat(completed["expected_ready_at"]).astimezone(WIB)
    second = read_page(
        await http.get(url, params={"format": "a4"}, headers=auth("supervisor", subject="spv-1"))
    )
    assert "Cetak ulang (cetakan ke-2)" in second.text
    assert second.by_id("promise").text == (
        f"{DAYS_ID[promised.weekday()]}, {promised.day} {MONTHS_ID[promised.month - 1]} "
        f"{promised.year} pukul {promised:%H.%M} WIB (1 hari kerja)"
    )
    assert not second.has_id("missing")
    assert second.by_id("nothing-missing").text == "Tidak ada: persyaratan lengkap"
    assert "SPTJM kebenaran sebagai pasangan suami istri" in second.items("handed-in")
    third = await http.get(url, params={"format": "pdf"}, headers=auth("admin", subject="adm-1"))
    text, _ = pdf_text_and_qr(third.content)
    assert "Cetak ulang (cetakan ke-3)" in text

    trail = expect(
        await http.get(
            f"{intake}/v1/audit",
            params={"target_id": created["id"]},
            headers=auth("supervisor"),
        )
    )["items"]
    prints = sorted(
        (e for e in trail if e["action"].startswith("application.receipt_")),
        key=lambda e: e["id"],
    )
    assert [
        (e["action"], e["actor"], e["detail"]["print_count"], e["detail"]["format"]) for e in prints
    ] == [
        ("application.receipt_printed", "desk-07", 1, "thermal"),
        ("application.receipt_reprinted", "spv-1", 2, "a4"),
        ("application.receipt_reprinted", "adm-1", 3, "pdf"),
    ]
    assert prints[0]["counter"] == "MPP-01"  # the printing officer's counter (token default)


async def test_only_the_counters_officers_may_print_a_receipt(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    created, _, _ = await take_incomplete_birth_certificate(http, intake)
    url = f"{intake}/v1/applications/{created['id']}/receipt"
    assert (await http.get(url)).status_code == 401
    for role in ("pickup", "complaint_officer", "production", "opd_system"):
        assert (await http.get(url, headers=auth(role))).status_code == 403, role
    for role in ("frontdesk", "verifier", "supervisor", "admin"):
        assert (await http.get(url, headers=auth(role))).status_code == 200, role
    unknown = await http.get(
        f"{intake}/v1/applications/{uuid.uuid4()}/receipt", headers=auth("frontdesk")
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    refused = await http.get(url, params={"format": "png"}, headers=auth("frontdesk"))
    assert refused.status_code == 422
    trail = expect(
        await http.get(
            f"{intake}/v1/audit", params={"target_id": created["id"]}, headers=auth("supervisor")
        )
    )["items"]
    # Refused callers printed nothing: four prints, by the four allowed roles.
    assert sum(e["action"].startswith("application.receipt_") for e in trail) == 4


async def test_english_receipt_on_request(stack: Stack, http: httpx.AsyncClient) -> None:
    intake = stack.services["intake"].url
    created, resident, mobile = await take_incomplete_birth_certificate(http, intake)
    english = expect(
        await http.get(
            f"{intake}/v1/applications/{created['id']}",
            headers={**auth("frontdesk"), "Accept-Language": "en"},
        )
    )
    missing = english["missing_requirements"][0]["name"]
    assert missing.startswith("Parents' marriage book")
    url = f"{intake}/v1/applications/{created['id']}/receipt"

    for answer in (
        await http.get(url, params={"lang": "en"}, headers=auth("frontdesk")),
        await http.get(url, headers={**auth("frontdesk"), "Accept-Language": "en-GB,en;q=0.8"}),
    ):
        page: HtmlPage = read_page(answer)
        assert page.lang == "en"
        assert page.all("h1")[0].text == "Application Receipt"
        assert page.items("missing") == [missing]
        assert "Rp 0 (free of charge)" in page.by_id("fee").text
        assert "Illegal fee (pungli)" in page.by_id("fee").text
        assert "Monday–Thursday 08:00–15:00" in page.items("hours")
        assert page.by_id("service").text == "Birth certificate"
        no_personal_data(answer.text, resident, mobile)

    pdf = await http.get(url, params={"lang": "en", "format": "pdf"}, headers=auth("frontdesk"))
    text, _ = pdf_text_and_qr(pdf.content)
    assert "Application Receipt" in text and "Papers still missing" in text
    assert squeeze(missing) in text
