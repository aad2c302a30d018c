"""What people hold and look at, from the documents service, on the running
stack: the QR code printed with a produced document opens its verification
page (valid, then revoked once a supervisor revokes it; an unknown code gets
a friendly page), and the waiting room's board shows the tracking codes
ready at its point, reloading itself, naming nobody."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import httpx
import zxingcpp
from PIL import Image

from mpp_devstack.stack import Stack
from mpp_shared import codes
from mpp_shared.wording import long_date
from tests.e2e.test_pickup import _ready
from tests.e2e.test_production import _move
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import nik
from tests.unit.test_documents_pages_render import PageView, read_page, refresh_seconds

POINT = "KEC-PAPAR"  # no other end-to-end test makes documents ready there
NOBODY_READY = "KEC-BELUM-ADA"
NAME_PARTS = ("Siti", "Rahayu")  # tests.e2e.test_counter_day.body's applicant


def qr_text(image: bytes) -> str:
    """The text of the one QR code in a PNG."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(image)))
    assert len(found) == 1, f"{len(found)} codes in the image"
    return str(found[0].text)


def shows_nobody(view: PageView, html: str, resident: str) -> None:
    """No NIK (full or as typed), no name; on the page or in its source."""
    for secret in (resident, *NAME_PARTS):
        assert secret not in html, secret
        assert secret not in view.text, secret


async def _page(http: httpx.AsyncClient, url: str, status: int = 200, **params: Any) -> PageView:
    answer = await http.get(url, params=params)
    assert answer.status_code == status, f"{url}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["content-type"].startswith("text/html")
    assert "Traceback" not in answer.text
    view = read_page(answer.text)
    assert view.h1_count == 1
    return view


async def test_a_documents_qr_code_opens_its_verification_page_valid_then_revoked(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    documents = stack.services["documents"].url
    resident = nik()
    _app, job = await _ready(stack, http, resident, point=POINT)
    code, number = job["verification_code"], job["document_number"]
    # The job tells the desk what to print: the page its QR code opens.
    assert job["verification_url"] == f"{documents}/verify/{code}"
    assert job["document_id"] is not None

    # The QR code, by the register's id, the job's id or the number.
    qr = await http.get(
        f"{documents}/v1/documents/{job['document_id']}/qr", headers=auth("production")
    )
    assert qr.status_code == 200, qr.text
    assert qr.headers["content-type"] == "image/png"
    url = qr_text(qr.content)
    assert url == job["verification_url"]
    for reference, role in ((job["id"], "pickup"), (number.lower(), "supervisor")):
        again = await http.get(f"{documents}/v1/documents/{reference}/qr", headers=auth(role))
        assert again.status_code == 200, again.text
        assert qr_text(again.content) == url
    svg = await http.get(
        f"{documents}/v1/documents/{number}/qr", params={"format": "svg"}, headers=auth("admin")
    )
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    assert (
        await http.get(f"{documents}/v1/documents/{number}/qr", headers=auth("frontdesk"))
    ).status_code == 403
    missing = await http.get(
        f"{documents}/v1/documents/3506-KTP-1999-000001/qr", headers=auth("production")
    )
    assert missing.status_code == 404, missing.text

    # Scanned: the page says valid, in words, the holder masked as the JSON twin says.
    twin = expect(await http.get(f"{documents}/v1/verify/{code}"))
    raw = await http.get(url)
    page = read_page(raw.text)
    assert page.lang == "id"
    assert page.by_id["status"] == "✓ SAH"
    assert page.attrs_by_id["status"]["data-status"] == "valid"
    assert page.by_id["document-number"] == number
    assert page.by_id["document-type"] == "KTP Elektronik (KTP-el)"
    assert page.by_id["holder"] == twin["holder"] and "*" in twin["holder"]
    assert page.by_id["issued-on"] == long_date(date.fromisoformat(twin["issued_on"]), "id")
    shows_nobody(page, raw.text, resident)
    english = await _page(http, url, lang="en")
    assert english.lang == "en" and english.by_id["status"] == "✓ VALID"
    assert english.by_id["document-type"] == "Electronic identity card (KTP-el)"

    # Typed into the form, grouped and in lower case: the same page.
    typed = f"{code[:4]}-{code[4:8]} {code[8:]}".lower()
    sent = await http.get(f"{documents}/verify", params={"code": typed}, follow_redirects=True)
    assert sent.status_code == 200 and str(sent.url) == url
    assert read_page(sent.text).by_id["status"] == "✓ SAH"

    # Revoked by a supervisor: the same QR code now says so, and since when.
    expect(
        await http.post(
            f"{documents}/v1/documents/{number}/revocation",
            json={"reason": "dicetak ganda"},
            headers=auth("supervisor"),
        )
    )
    revoked = await _page(http, url)
    assert revoked.by_id["status"] == "✗ DICABUT"
    assert revoked.attrs_by_id["status"]["data-status"] == "revoked"
    assert "SAH" not in revoked.text.replace(code, "").upper()
    assert revoked.by_id["revoked-on"]
    assert "dicetak ganda" not in revoked.text  # the reason stays with the office
    assert (await _page(http, url, lang="en")).by_id["status"] == "✗ REVOKED"


async def test_an_unknown_or_mistyped_code_gets_a_friendly_page(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    documents = stack.services["documents"].url
    stranger = codes.new_code(10, prefix="V")  # well formed, never issued
    unknown = await _page(http, f"{documents}/verify/{stranger}", status=404)
    assert unknown.by_id["status"] == "? TIDAK DITEMUKAN"
    assert stranger in unknown.by_id["verdict-text"]
    assert "code" in unknown.labels_for  # and a form to try again
    english = await _page(http, f"{documents}/verify/{stranger}", status=404, lang="en")
    assert english.by_id["status"] == "? NOT FOUND"
    mistyped = await _page(http, f"{documents}/verify/{stranger[:-1]}", status=422)
    assert mistyped.by_id["status"] == "? KODE TIDAK SESUAI"
    form = await _page(http, f"{documents}/verify")
    assert "code" in form.labels_for


async def test_the_waiting_room_board_shows_what_is_ready_and_nobody(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    documents = stack.services["documents"].url
    first, second = nik(), nik()
    app, job = await _ready(stack, http, first, point=POINT)
    app2, _job2 = await _ready(stack, http, second, point=POINT)

    raw = await http.get(f"{documents}/board/{POINT}")
    assert raw.status_code == 200, raw.text
    board = read_page(raw.text)
    assert refresh_seconds(board) == 30
    assert board.by_id["point"] == POINT and "WIB" in board.by_id["as-of"]
    shown = board.by_class["code"]
    assert app["tracking_code"] in board.by_id["ready"] and app2["tracking_code"] in shown
    assert shown.index(app2["tracking_code"]) < shown.index(app["tracking_code"])  # newest first
    assert board.by_id["count"] == f"{len(shown)} dokumen siap diambil"
    assert "KTP Elektronik (KTP-el)" in board.by_id["ready"]
    for resident in (first, second):
        shows_nobody(board, raw.text, resident)
    assert "*" not in board.text  # not even a masked holder

    # The JSON twin: the codes, their services and when, nothing else.
    twin = expect(await http.get(f"{documents}/v1/pickup-points/{POINT}/ready"))
    assert twin["pickup_point"] == POINT and twin["count"] == len(shown)
    assert [i["tracking_code"] for i in twin["items"]] == shown
    item = next(i for i in twin["items"] if i["tracking_code"] == app["tracking_code"])
    assert set(item) == {"tracking_code", "service_code", "service_name", "ready_at"}
    assert (item["service_code"], item["service_name"]) == ("ktp_el", "KTP Elektronik (KTP-el)")

    # Handed over: off the board at its next reload.
    expect(await _move(http, stack, job["id"], "pickup", to="picked_up", collector_nik=first))
    after = await _page(http, f"{documents}/board/{POINT}", lang="en")
    assert app["tracking_code"] not in after.by_id["ready"]
    assert app2["tracking_code"] in after.by_class["code"]
    assert after.by_id["count"].endswith("ready for pickup")

    # A point with nothing ready: a friendly empty board, still reloading.
    empty = await _page(http, f"{documents}/board/{NOBODY_READY}")
    assert "code" not in empty.by_class and empty.by_id["empty"]
    assert empty.by_id["count"] == "0 dokumen siap diambil" and refresh_seconds(empty) == 30
    nothing = expect(await http.get(f"{documents}/v1/pickup-points/{NOBODY_READY}/ready"))
    assert (nothing["count"], nothing["items"]) == (0, [])
    # A point typed in lower case is the same board; a code no point has, a friendly page.
    lower = await http.get(f"{documents}/board/{POINT.lower()}", follow_redirects=True)
    assert lower.status_code == 200 and str(lower.url).endswith(f"/board/{POINT}")
    await _page(http, f"{documents}/board/no_such_point!", status=422)
