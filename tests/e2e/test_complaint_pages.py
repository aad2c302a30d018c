"""The complaints service's public pages over HTTP on the running stack: the
complaint form (/complaints/new) posted as an ordinary HTML form, the status
page by complaint code (/complaints/status/{code}) and its JSON twin
(/v1/complaint-status/{code}), the look-up form, an unknown code's page, in
Bahasa Indonesia and in English. The pages in a real browser are tested
elsewhere; here is what the server answers."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from mpp_shared import codes
from tests.e2e.test_production import _verified_job
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import email, nik, phone
from tests.support.polling import eventually

NAME = "Wulan Permatasari"
FORM_FIELDS = (
    "category",
    "description",
    "tracking_code",
    "anonymous",
    "confidential",
    "reporter_name",
    "phone",
    "email",
)


def _code_on(page: str) -> str:
    found = re.search(r'class="code"[^>]*>([^<]+)<', page)
    assert found, page[:2000]
    return found.group(1).strip()


def _text_of(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    assert found, f"no #{element_id} on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _is_page(answer: httpx.Response, status: int, language: str = "id") -> str:
    assert answer.status_code == status, f"{answer.status_code}: {answer.text[:1500]}"
    assert answer.headers["content-type"].startswith("text/html")
    assert f'<html lang="{language}">' in answer.text
    assert answer.text.count("<h1") == 1
    return answer.text


async def test_the_form_files_a_complaint_and_lands_on_its_status_page(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url = stack.services["complaints"].url
    form = _is_page(await http.get(f"{url}/complaints/new"), 200)
    for name in FORM_FIELDS:
        assert f'name="{name}"' in form, name
        assert f'<label for="{name}"' in form, name
    assert '<option value="pungli">Pungutan liar</option>' in form
    assert 'method="post" action="/complaints/new"' in form

    reporter_phone, reporter_email = phone(), email("pelapor")
    posted = await http.post(
        f"{url}/complaints/new",
        data={
            "category": "pungli",
            "description": "Petugas loket meminta uang Rp 50.000 untuk mempercepat KTP",
            "tracking_code": "",
            "anonymous": "true",
            "reporter_name": NAME,
            "phone": reporter_phone.typed,
            "email": reporter_email,
        },
    )
    assert posted.status_code == 303, posted.text
    location = posted.headers["location"]
    assert re.fullmatch(r"/complaints/status/P[0-9A-Z]{9}", location), location
    code = location.rsplit("/", 1)[1]
    assert codes.is_valid(code, 9, "P")

    page = _is_page(await http.get(url + location), 200)
    assert _code_on(page) == code
    assert _text_of(page, "status") == "Diterima, menunggu verifikasi"
    assert _text_of(page, "category") == "Pungutan liar"
    for secret in (NAME, "Wulan", reporter_phone.typed, reporter_phone.e164, reporter_email):
        assert secret not in page, secret
    assert "Rp 50.000" not in page  # nor the description

    twin = expect(await http.get(f"{url}/v1/complaint-status/{code}"))
    assert twin["complaint_code"] == code and twin["status"] == "received"
    assert twin["category_name"] == "Pungutan liar"
    # Filed like POST /v1/complaints: channel web, anonymous, linked to nothing.
    queue = expect(
        await http.get(
            f"{url}/v1/complaints",
            params={"category": "pungli", "channel": "web", "sort": "newest", "page_size": 50},
            headers=auth("complaint_officer"),
        )
    )
    [filed] = [i for i in queue["items"] if i["complaint_code"] == code]
    assert filed["anonymous"] is True and filed["confidential"] is False
    assert filed["tracking_code"] is None


async def test_the_status_page_shows_the_step_the_answer_and_the_request(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url = stack.services["complaints"].url
    application, _job = await _verified_job(stack, http, nik())
    posted = await http.post(
        f"{url}/complaints/new?lang=en",
        data={
            "category": "keterlambatan",
            "description": "My KTP-el is still not ready after two weeks",
            "tracking_code": application["tracking_code"].lower(),
            "confidential": "true",
        },
    )
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"].endswith("?lang=en")
    code = posted.headers["location"].split("/")[-1].split("?")[0]
    officer = auth("complaint_officer")
    queue = expect(
        await http.get(
            f"{url}/v1/complaints",
            params={"category": "keterlambatan", "sort": "newest", "page_size": 50},
            headers=officer,
        )
    )
    [filed] = [i for i in queue["items"] if i["complaint_code"] == code]
    assert filed["confidential"] is True
    assert filed["tracking_code"] == application["tracking_code"]
    cid = filed["id"]

    async def linked() -> Any:
        read = expect(await http.get(f"{url}/v1/complaints/{cid}", headers=officer))
        return read["linked_request_progress"]

    progress = await eventually(linked, interval=0.5)
    for action, body in (
        ("verification", {"decision": "verified"}),
        ("assignment", {}),
        ("progress", {}),
        ("response", {"text": "Your KTP-el is printed.\nPlease collect it at the MPP."}),
    ):
        expect(await http.post(f"{url}/v1/complaints/{cid}/{action}", json=body, headers=officer))

    page = _is_page(await http.get(f"{url}/complaints/status/{code}?lang=en"), 200, "en")
    assert _code_on(page) == code
    assert _text_of(page, "status") == "Answered"
    assert _text_of(page, "category") == "Late document"
    assert _text_of(page, "opd") == "DISDUKCAPIL"
    assert _text_of(page, "step").startswith("Waiting for your reply")
    assert _text_of(page, "deadline").endswith("WIB")
    assert _text_of(page, "response-text").startswith("Your KTP-el is printed.")
    # The request's progress in words (it may have moved on since it was read).
    assert progress and _text_of(page, "request-progress") not in ("", progress)

    indonesian = _is_page(await http.get(f"{url}/complaints/status/{code.lower()}"), 200)
    assert _text_of(indonesian, "status") == "Sudah dijawab"
    assert "pukul" in _text_of(indonesian, "deadline")

    twin = expect(await http.get(f"{url}/v1/complaint-status/{code}"))
    assert twin["status"] == "responded" and twin["step"] == "auto_close"
    assert twin["response_text"].startswith("Your KTP-el is printed.")
    assert twin["linked_request_progress"] is not None and twin["step_due_at"]
    english = expect(
        await http.get(f"{url}/v1/complaint-status/{code}", headers={"Accept-Language": "en"})
    )
    assert english["status_text"] == "Answered" and twin["status_text"] == "Sudah dijawab"


async def test_an_invalid_form_comes_back_with_each_error_by_its_field(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url = stack.services["complaints"].url
    typed = {
        "category": "sikap_petugas",
        "description": "kasar",
        "tracking_code": "TRK-123",
        "confidential": "true",
        "reporter_name": NAME,
        "phone": "12",
        "email": "bukan-email",
    }
    page = _is_page(await http.post(f"{url}/complaints/new", data=typed), 422)
    assert _text_of(page, "description-error") == "terlalu pendek: paling sedikit 10 karakter"
    assert _text_of(page, "phone-error").startswith("nomor telepon")
    assert _text_of(page, "email-error") == "alamat e-mail tidak sah"
    assert 'id="category-error"' not in page
    # What was typed is kept, but never the name, phone or e-mail.
    assert ">kasar</textarea>" in page
    assert 'value="TRK-123"' in page
    assert '<option value="sikap_petugas" selected>' in page
    assert re.search(r'id="confidential"[^>]*checked', page)
    assert not re.search(r'id="anonymous"[^>]*checked', page)
    assert NAME not in page and "bukan-email" not in page

    english = _is_page(
        await http.post(f"{url}/complaints/new?lang=en", data={**typed, "category": "no_such"}),
        422,
        "en",
    )
    assert _text_of(english, "description-error") == "is too short: at least 10 characters"
    assert _text_of(english, "email-error") == "the e-mail address is not valid"

    unknown = _is_page(
        await http.post(
            f"{url}/complaints/new?lang=en",
            data={"category": "no_such", "description": "A description long enough"},
        ),
        422,
        "en",
    )
    assert _text_of(unknown, "category-error") == "unknown category: no_such"


async def test_the_status_look_up_form_and_an_unknown_code(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url = stack.services["complaints"].url
    form = _is_page(await http.get(f"{url}/complaints/status"), 200)
    assert 'name="code"' in form and '<label for="code"' in form
    never_filed = codes.new_code(9, prefix="P")
    asked = await http.get(
        f"{url}/complaints/status", params={"code": f" {never_filed[:5].lower()}-{never_filed[5:]}"}
    )
    assert asked.status_code == 303 and asked.headers["location"] == (
        f"/complaints/status/{never_filed}"
    )

    unknown = _is_page(await http.get(f"{url}/complaints/status/{never_filed}"), 404)
    assert "Pengaduan tidak ditemukan" in unknown
    assert "Kode pengaduan tidak ditemukan" in _text_of(unknown, "lookup-message")
    assert 'name="code"' in unknown  # try again at once
    english = _is_page(await http.get(f"{url}/complaints/status/{never_filed}?lang=en"), 404, "en")
    assert "Complaint not found" in english and "No complaint has this code" in english
    # A mistyped code (its check character wrong) is told so.
    wrong = never_filed[:-1] + ("2" if never_filed[-1] != "2" else "3")
    mistyped = _is_page(await http.get(f"{url}/complaints/status/{wrong}"), 404)
    assert "salah ketik" in _text_of(mistyped, "lookup-message")

    twin = await http.get(f"{url}/v1/complaint-status/{never_filed}")
    assert expect(twin, 404)["code"] == "not_found"
