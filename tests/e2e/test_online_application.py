"""A resident applies online, without an officer's token, through the running
stack: a sign-in code read from the fake SMS gateway, a real PDF and a real
JPEG uploaded per requirement, the missing paper named before submission, a
verifier who reads the papers and returns one, the corrected paper uploaded
and resubmitted, then verification and production up to ready_for_pickup.
A session reaches only its own application; nothing of the code, the NIK or
the papers appears on the topics or in the services' logs."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, FilePayload

from mpp_devstack.stack import Stack
from tests.e2e.test_pages_in_browser import browser, readable
from tests.integration.test_online_application import jpeg_photo, pdf_paper
from tests.support.auth import auth
from tests.support.browser import PHONE, opened
from tests.support.citizen import client_address, mentions_code, request_code, wait_for_code
from tests.support.http import LIVE, expect
from tests.support.identities import nik, phone
from tests.support.opd import OutsideReader
from tests.support.otlp import OtlpReceiver
from tests.support.polling import eventually
from tests.support.providers import Providers

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the module's headless Chromium, shared with the public pages' tests

SERVICE = "pindah_datang"  # mandatory: skpwni (PDF here), ktp_el_pemohon (a photo here)
MARKER = "SURAT-PINDAH-RAHASIA-7731"  # written inside the PDF: must never leave intake


async def signed_in(
    intake: str, providers: Providers, resident: str, mobile: str
) -> tuple[str, str]:
    """(token, code): the code as the fake SMS gateway received it."""
    address = client_address()
    request_id, code = await asyncio.to_thread(
        request_code, intake, providers, nik=resident, phone=mobile, address=address
    )
    async with httpx.AsyncClient(timeout=10, limits=LIVE) as client:
        opened = expect(
            await client.post(
                f"{intake}/v1/citizen/sessions",
                json={"request_id": request_id, "code": code},
                headers={"X-Forwarded-For": address},
            ),
            201,
        )
    return str(opened["token"]), code


def upload(document: str, name: str, data: bytes, kind: str) -> dict[str, Any]:
    return {"data": {"document": document}, "files": {"file": (name, data, kind)}}


async def test_a_resident_applies_online_corrects_a_returned_paper_and_it_gets_ready(
    stack: Stack,
    http: httpx.AsyncClient,
    providers: Providers,
    opd_reader: OutsideReader,
    otlp: OtlpReceiver,
) -> None:
    intake = stack.services["intake"].url
    documents = stack.services["documents"].url
    resident, mobile = nik(), phone()
    token, code = await signed_in(intake, providers, resident, mobile.typed)
    citizen = {"Authorization": f"Bearer {token}"}

    # The draft names every mandatory paper; a paper is checked by its content.
    draft = expect(
        await http.post(
            f"{intake}/v1/citizen/drafts", json={"service_code": SERVICE}, headers=citizen
        ),
        201,
    )
    assert [m["code"] for m in draft["missing_requirements"]] == ["skpwni", "ktp_el_pemohon"]
    files_url = f"{intake}/v1/citizen/drafts/{draft['id']}/files"
    fake = await http.post(
        files_url,
        headers=citizen,
        **upload("skpwni", "skpwni.pdf", b"hello, not a pdf", "application/pdf"),
    )
    assert fake.status_code == 415, fake.text
    assert "Surat Keterangan Pindah" in fake.json()["detail"]
    pdf = pdf_paper(MARKER)
    draft = expect(
        await http.post(
            files_url, headers=citizen, **upload("skpwni", "scan.pdf", pdf, "application/pdf")
        ),
        201,
    )
    # Submitting now is refused and names the paper still missing.
    submit_url = f"{intake}/v1/citizen/drafts/{draft['id']}/submission"
    early = await http.post(submit_url, json={"full_name": "Rini Kusuma"}, headers=citizen)
    assert early.status_code == 422 and "KTP-el pemohon" in early.json()["detail"], early.text
    photo = jpeg_photo()
    draft = expect(
        await http.post(
            files_url,
            headers=citizen,
            **upload("ktp_el_pemohon", "IMG_0001.jpg", photo, "image/jpeg"),
        ),
        201,
    )
    assert draft["missing_requirements"] == []
    point = draft["pickup_points"][0]
    assert point["nearest"]
    app = expect(
        await http.post(submit_url, json={"full_name": "Rini Kusuma"}, headers=citizen), 201
    )
    assert (app["channel"], app["status"], app["pickup_point"]) == (
        "online",
        "submitted",
        point["code"],
    )
    app_id, tracking = app["id"], app["tracking_code"]

    # Only this session's NIK and phone reach it: the same NIK with another phone does not.
    stranger, _ = await signed_in(intake, providers, resident, phone().typed)
    other = {"Authorization": f"Bearer {stranger}"}
    assert (
        await http.get(f"{intake}/v1/citizen/applications/{app_id}", headers=other)
    ).status_code == 404
    assert expect(await http.get(f"{intake}/v1/citizen/applications", headers=other), 200) == []
    # A citizen token is no officer's.
    assert (
        await http.get(f"{intake}/v1/applications/{app_id}/files", headers=citizen)
    ).status_code == 403

    # The verifier reads the papers beside each requirement, and returns the photo.
    listed = expect(
        await http.get(f"{intake}/v1/applications/{app_id}/files", headers=auth("verifier")), 200
    )
    papers = {r["code"]: r["files"] for r in listed["requirements"]}
    [scan] = papers["skpwni"]
    opened = await http.get(
        f"{intake}/v1/applications/{app_id}/files/{scan['id']}", headers=auth("verifier")
    )
    assert opened.status_code == 200 and opened.content == pdf
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["content-disposition"].startswith("inline")
    expect(
        await http.post(
            f"{intake}/v1/applications/{app_id}/verification",
            json={
                "decision": "returned",
                "checks": [
                    {"requirement": "ktp_el_pemohon", "result": "invalid", "note": "foto buram"}
                ],
            },
            headers=auth("verifier"),
        ),
        200,
    )

    # The resident uploads the corrected photo and resubmits, in the same session.
    mine = expect(
        await http.get(f"{intake}/v1/citizen/applications/{app_id}", headers=citizen), 200
    )
    assert [i["code"] for i in mine["application"]["returned_items"]] == ["ktp_el_pemohon"]
    corrected = jpeg_photo((40, 90, 160), gps=False)
    expect(
        await http.post(
            f"{intake}/v1/citizen/applications/{app_id}/files",
            headers=citizen,
            **upload("ktp_el_pemohon", "IMG_0002.jpg", corrected, "image/jpeg"),
        ),
        201,
    )
    again = expect(
        await http.post(f"{intake}/v1/citizen/applications/{app_id}/resubmission", headers=citizen),
        200,
    )
    assert (again["application"]["status"], again["application"]["progress"]) == (
        "submitted",
        "resubmitted",
    )
    expect(
        await http.post(
            f"{intake}/v1/applications/{app_id}/verification",
            json={"decision": "verified"},
            headers=auth("verifier"),
        ),
        200,
    )

    # Production takes it to the pickup point.
    async def job() -> dict[str, Any] | None:
        found = await http.get(
            f"{documents}/v1/jobs", params={"application_id": app_id}, headers=auth("production")
        )
        items: list[dict[str, Any]] = found.json()["items"]
        return items[0] if items else None

    queued = await eventually(job)
    for body in (
        {"to": "in_production"},
        {"to": "produced"},
        {"to": "ready_for_pickup", "pickup_point": point["code"]},
    ):
        expect(
            await http.post(
                f"{documents}/v1/jobs/{queued['id']}/transitions",
                json=body,
                headers=auth("production"),
            ),
            200,
        )

    async def ready() -> dict[str, Any] | None:
        seen = await http.get(f"{intake}/v1/citizen/applications/{app_id}", headers=citizen)
        body: dict[str, Any] = seen.json()
        return body if body["application"]["progress"] == "ready_for_pickup" else None

    await eventually(ready)
    # The resident is told by message on the phone the code came to.
    await eventually(lambda: any(tracking in m.body for m in providers.to(mobile.e164)) or None)

    # The events carry references and hashes of the papers, nothing of their content.
    def of_app(event: dict[str, Any]) -> bool:
        return str(event.get("subject")) == app_id

    events = await eventually(
        lambda: ((found := opd_reader.events(of_app)) and len(found) >= 4 and found) or None
    )
    submitted = next(e for e in events if e["type"] == "mpp.application.submitted.v1")
    assert {u["requirement"] for u in submitted["data"]["uploads"]} == {"skpwni", "ktp_el_pemohon"}
    published = repr(events)
    assert not mentions_code(published, code), "the sign-in code on a topic"
    secrets = [
        resident,
        mobile.typed,
        mobile.e164,
        MARKER,
        base64.b64encode(pdf[:60]).decode(),
    ]
    assert not [s for s in secrets if s in published]
    logs = "".join(p.read_text(errors="replace") for p in (stack.workdir / "logs").glob("*.log"))
    assert not [s for s in (resident, mobile.e164, MARKER, f'"{code}"') if s in logs]
    # Nor in the spans the services exported.
    spans = repr(otlp.find(lambda span: span.service == "mpp-intake"))
    assert "/v1/citizen/drafts" in spans  # the spans were exported and are read
    assert not [s for s in (resident, mobile.e164, mobile.typed, MARKER) if s in spans]
    assert not mentions_code(spans, code), "the sign-in code in a span"


async def test_the_online_pages_in_a_phone_browser(
    stack: Stack, providers: Providers, browser: Browser
) -> None:
    """Sign in with the code, choose the service, upload per requirement, see
    what is missing, choose the point, submit, read the receipt: at 360 px,
    without JavaScript, each page readable."""
    intake = stack.services["intake"].url
    resident, mobile = nik(), phone()
    async with opened(browser, PHONE) as context:
        page = await context.new_page()
        await page.set_extra_http_headers({"X-Forwarded-For": client_address()})
        await page.goto(f"{intake}/online")  # not signed in: sent to the sign-in page
        assert page.url.startswith(f"{intake}/online/masuk")
        await readable(page, PHONE)
        seen = len(providers.to(mobile.e164))
        await page.fill("#nik", resident)
        await page.fill("#phone", mobile.typed)
        await page.click("#signin-form button[type=submit]")
        await readable(page, PHONE)
        code = await asyncio.to_thread(
            wait_for_code, providers, mobile.typed, seen=seen, channel="sms"
        )
        await page.fill("#code", code)
        await page.click("#code-form button[type=submit]")
        assert page.url.rstrip("/").endswith("/online"), page.url
        await readable(page, PHONE)

        await page.click("#apply-new")
        await readable(page, PHONE)
        await page.click(f"#services a[href^='/online/ajukan/{SERVICE}']")
        text = await readable(page, PHONE)
        assert "Masih kurang" in text
        await page.set_input_files(
            "#file-skpwni",
            files=FilePayload(
                name="scan.pdf", mimeType="application/pdf", buffer=pdf_paper("SKPWNI")
            ),
        )
        await page.click("#req-skpwni button:has-text('Unggah')")
        text = await readable(page, PHONE)
        missing = await page.inner_text("#missing")
        assert "KTP-el pemohon" in missing and "Surat Keterangan Pindah" not in missing
        await page.set_input_files(
            "#file-ktp_el_pemohon",
            files=FilePayload(name="foto.jpg", mimeType="image/jpeg", buffer=jpeg_photo()),
        )
        await page.click("#req-ktp_el_pemohon button:has-text('Unggah')")
        await readable(page, PHONE)
        assert "Semua persyaratan wajib sudah diunggah" in await page.inner_text("#missing")
        nearest = await page.locator("#pickup_point option").first.inner_text()
        assert "terdekat" in nearest
        await page.fill("#full_name", "Rini Kusuma")
        await page.click("#submit-form button[type=submit]")
        assert "/online/permohonan/" in page.url, page.url
        text = await readable(page, PHONE)
        tracking = (await page.inner_text("#tracking-code")).strip()
        assert len(tracking) >= 8 and resident not in text
        await page.goto(f"{intake}/online")
        assert tracking in await readable(page, PHONE)
