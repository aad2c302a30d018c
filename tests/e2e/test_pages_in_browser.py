"""The public pages and the receipt as people meet them: in a real browser
(headless Chromium, JavaScript off), at a cheap phone's width and at a
desktop's, against the running stack.

- the front desk prints a receipt; its QR code (decoded from what the browser
  shows) opens the live tracking page, which names the missing paper;
- a produced document's QR code opens its verification page: valid;
- the waiting room's board shows what is ready at that point, and refreshes;
- a citizen files a complaint through the form and lands on its status page;
- the catalog page lists a service's requirements.

Every page is checked for what a reader needs: `lang`, one heading 1, a label
on every field, nothing wider than the screen, and no full NIK or name."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, Page

from mpp_devstack.stack import Stack
from tests.e2e.test_counter_day import body
from tests.e2e.test_pickup import _ready
from tests.support.auth import auth, token
from tests.support.browser import (
    DESKTOP,
    PHONE,
    VIEWPORTS,
    Viewport,
    chromium,
    chromium_path,
    opened,
)
from tests.support.http import expect
from tests.support.identities import nik

pytestmark = pytest.mark.e2e

HOLDER_NAME = "Siti Rahayu"  # the name tests.e2e.test_counter_day.body files


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium(chromium_path()) as found:
        yield found


def qr_codes(png: bytes) -> list[str]:
    """The texts of the QR codes in a screenshot or an image."""
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def readable(page: Page, viewport: Viewport, *, language: str = "id") -> str:
    """What a reader of `page` needs, checked; its visible text."""
    assert await page.locator("html").get_attribute("lang") == language
    assert await page.locator("h1").count() == 1, "one heading 1 per page"
    fields = page.locator("input:not([type=hidden]):not([type=submit]), select, textarea")
    for index in range(await fields.count()):
        field = fields.nth(index)
        named = await field.get_attribute("aria-label")
        if not named:
            ident = await field.get_attribute("id")
            assert ident, (
                f"a field without id or aria-label: {await field.evaluate('e => e.outerHTML')}"
            )
            assert await page.locator(f"label[for='{ident}']").count() == 1, (
                f"no label for #{ident}"
            )
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport.width, f"{page.url} is {width} px wide on a {viewport.width} px screen"
    text = await page.inner_text("body")
    return text


def shows_no_person(text: str, resident: str) -> None:
    assert resident not in text, "a full NIK on a public page"
    assert HOLDER_NAME not in text, "a name on a public page"


async def counter_application(
    stack: Stack, http: httpx.AsyncClient, resident: str
) -> dict[str, Any]:
    """An akta kelahiran application with one paper still missing."""
    app: dict[str, Any] = expect(
        await http.post(
            f"{stack.services['intake'].url}/v1/applications",
            json=body(
                "akta_kelahiran",
                ["surat_keterangan_lahir", "kartu_keluarga", "ktp_el_orang_tua"],
                nik=resident,
            ),
            headers=auth("frontdesk"),
        ),
        201,
    )
    assert app["missing_requirements"], app
    return app


async def test_the_receipts_qr_code_opens_the_live_tracking_page(
    stack: Stack, http: httpx.AsyncClient, browser: Browser
) -> None:
    intake = stack.services["intake"].url
    resident = nik()
    app = await counter_application(stack, http, resident)
    code = app["tracking_code"]
    missing = app["missing_requirements"][0]["name"]

    # The front desk opens the receipt to print it (thermal and A4).
    for layout in ("thermal", "a4"):
        async with opened(browser, DESKTOP) as desk:
            page = await desk.new_page()
            await page.set_extra_http_headers({"Authorization": f"Bearer {token('frontdesk')}"})
            await page.goto(f"{intake}/v1/applications/{app['id']}/receipt?format={layout}")
            text = await page.inner_text("body")
            assert code in text and missing in text and "Rp 0" in text, text
            shows_no_person(text, resident)
            scanned = qr_codes(await page.screenshot(full_page=True))
            assert scanned == [f"{intake}/track/{code}"], scanned

    # The citizen scans it with a phone, and reads it at home on a desktop.
    for viewport in VIEWPORTS:
        async with opened(browser, viewport) as own:
            page = await own.new_page()
            await page.goto(scanned[0])
            text = await readable(page, viewport)
            assert (await page.inner_text(".code")).strip() == code
            assert missing in await page.inner_text("#missing")
            assert await page.locator("ol.timeline li").count() >= 1
            shows_no_person(text, resident)
            # The language switch on every page.
            await page.get_by_role("link", name="English").click()
            await readable(page, viewport, language="en")
            assert (await page.inner_text(".code")).strip() == code

    # A mistyped code: a page that says so, with a form to try again.
    async with opened(browser, PHONE) as own:
        page = await own.new_page()
        answer = await page.goto(f"{intake}/track")
        assert answer is not None and answer.status == 200
        await readable(page, PHONE)
        await page.get_by_label("Kode pelacakan").fill(
            code[:-1] + ("0" if code[-1] != "0" else "1")
        )
        await page.get_by_role("button").first.click()
        text = await readable(page, PHONE)
        assert "Traceback" not in text and code not in text


async def test_a_documents_qr_code_says_it_is_valid_and_the_board_shows_it_ready(
    stack: Stack, http: httpx.AsyncClient, browser: Browser
) -> None:
    documents = stack.services["documents"].url
    resident = nik()
    app, job = await _ready(stack, http, resident, point="MPP")
    code = app["tracking_code"]

    # What is printed with the document: its verification QR code.
    qr = await http.get(
        f"{documents}/v1/documents/{job['document_id']}/qr", headers=auth("production")
    )
    assert qr.status_code == 200, qr.text
    [url] = qr_codes(qr.content)
    assert url.startswith(f"{documents}/verify/"), url
    for viewport in VIEWPORTS:
        async with opened(browser, viewport) as own:
            page = await own.new_page()
            await page.goto(url)
            text = await readable(page, viewport)
            assert "SAH" in text.upper(), text
            shows_no_person(text, resident)

    # The waiting room's screen (and a phone held up to read it).
    for viewport in (DESKTOP, PHONE):
        async with opened(browser, viewport) as screen:
            page = await screen.new_page()
            await page.goto(f"{documents}/board/MPP")
            text = await readable(page, viewport)
            shows_no_person(text, resident)
            shown = page.locator("#ready .code", has_text=code)
            assert await shown.count() == 1, await page.inner_text("#ready")
            # Large, and on one line: a code broken in two is misread.
            size = await shown.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            box = await shown.bounding_box()
            assert size >= 40 and box is not None and box["height"] < 2 * size, (size, box)
            refresh = page.locator("meta[http-equiv=refresh]")
            assert await refresh.count() == 1
            assert int((await refresh.get_attribute("content") or "0").split(";")[0]) > 0


async def test_a_complaint_filed_through_the_form_lands_on_its_status_page(
    stack: Stack, browser: Browser
) -> None:
    complaints = stack.services["complaints"].url
    async with opened(browser, PHONE) as own:
        page = await own.new_page()
        await page.goto(f"{complaints}/complaints/new")
        await readable(page, PHONE)
        await page.locator("select[name=category]").select_option("pungli")
        await page.locator("textarea[name=description]").fill(
            "Petugas di loket meminta uang Rp 50.000 untuk mempercepat KTP-el."
        )
        await page.locator("input[name=anonymous]").check()
        await page.get_by_role("button").first.click()
        await page.wait_for_url("**/complaints/status/**")
        text = await readable(page, PHONE)
        complaint_code = (await page.inner_text(".code")).strip()
        assert page.url.endswith(f"/complaints/status/{complaint_code}")
        assert (await page.inner_text("#status")).strip(), text


async def test_the_catalog_page_lists_a_services_requirements(
    stack: Stack, browser: Browser
) -> None:
    intake = stack.services["intake"].url
    async with opened(browser, PHONE) as own:
        page = await own.new_page()
        await page.goto(f"{intake}/services")
        await readable(page, PHONE)
        await page.get_by_role("link", name="Akta Kelahiran").first.click()
        await readable(page, PHONE)
        assert "Akta Kelahiran" in await page.inner_text("h1")
        requirements = await page.inner_text("#requirements")
        assert "Surat keterangan kelahiran dari rumah sakit" in requirements, requirements
        assert "Rp 0" in await page.inner_text("#fee")
