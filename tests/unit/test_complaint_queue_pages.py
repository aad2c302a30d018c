"""The complaints' public pages without a running service: the complaint
form read as POST /v1/complaints reads its JSON, each error worded for its
field in the reader's language, and the templates rendered (one heading,
a label for every field, no reporter's identity shown again)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from mpp_complaints.api.complaint_form import FIELDS, KIND_CHOICES, read_form, refusal_errors
from mpp_complaints.main import create_app
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.usecases.categories import Category
from mpp_complaints.usecases.filing import UnknownCategory
from mpp_complaints.usecases.status import ComplaintStatus, normalised_code
from mpp_shared import codes
from mpp_shared.errors import NotFound
from mpp_shared.ratelimit import Decision
from mpp_shared.web.pages import Pages

NAME = "Sekar Ayu Lestari"
PHONE = "081234567801"


def _request(query: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/complaints/new",
            "query_string": query.encode(),
            "headers": [],
        }
    )


def _pages() -> Pages:
    return Pages("mpp_complaints", ComplaintsSettings())


def _html(template: str, **context: Any) -> str:
    lang_query = str(context.get("lang_query", ""))
    request = _request(lang_query.removeprefix("?"))
    return bytes(_pages().render(request, template, **context).body).decode()


CATEGORIES = [
    Category(
        code=code,
        name_id=name_id,
        name_en=name_en,
        opd="DISDUKCAPIL",
        verify_days=3,
        followup_days=5,
        close_days=10,
        active=True,
    )
    for code, name_id, name_en in (
        ("pelayanan", "Kualitas pelayanan", "Quality of service"),
        ("pungli", "Pungutan liar", "Illegal fee"),
    )
]


def test_a_good_form_is_the_complaint_the_json_route_would_file() -> None:
    reading = read_form(
        {
            "category": "pungli",
            "description": "  Petugas meminta uang tambahan  ",
            "tracking_code": "",
            "anonymous": "true",
            "confidential": "",
            "reporter_name": NAME,
            "phone": PHONE,
            "email": "",
        },
        "en",
    )
    assert reading.errors == {} and reading.complaint is not None
    complaint = reading.complaint
    assert (complaint.category, complaint.channel, complaint.language) == ("pungli", "web", "en")
    assert complaint.description == "Petugas meminta uang tambahan"
    assert complaint.anonymous is True and complaint.confidential is False
    assert complaint.phone == "+6281234567801" and complaint.email is None
    assert complaint.tracking_code is None


def test_each_error_is_worded_for_its_field_in_the_readers_language() -> None:
    form = {"category": "", "description": "pendek", "phone": "12", "email": "x@"}
    indonesian = read_form(form, "id")
    assert indonesian.complaint is None
    assert indonesian.errors == {
        "category": "wajib diisi",
        "description": "terlalu pendek: paling sedikit 10 karakter",
        "phone": "nomor telepon tidak sah (contoh: 0812 3456 7890)",
        "email": "alamat e-mail tidak sah",
    }
    english = read_form(form, "en")
    assert english.errors["description"] == "is too short: at least 10 characters"
    assert english.errors["email"] == "the e-mail address is not valid"
    too_long = read_form({"category": "pungli", "description": "x" * 4001}, "id")
    assert too_long.errors == {"description": "terlalu panjang: paling banyak 4000 karakter"}


def test_the_values_kept_never_hold_the_reporters_identity() -> None:
    reading = read_form(
        {
            "category": "pungli",
            "description": "pendek",
            "confidential": "on",
            "reporter_name": NAME,
            "phone": PHONE,
            "email": "sekar@example.co.id",
        },
        "id",
    )
    assert reading.values == {
        "kind": "",
        "category": "pungli",
        "description": "pendek",
        "tracking_code": "",
        "anonymous": False,
        "confidential": True,
        "publication_consent": False,
    }


def test_a_use_cases_refusal_lands_on_its_field() -> None:
    refusal = UnknownCategory.of("tidak_ada")
    assert refusal_errors(refusal, "id") == {"category": "kategori tidak dikenal: tidak_ada"}
    assert refusal_errors(refusal, "en") == {"category": "unknown category: tidak_ada"}


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_form_page_labels_every_field_and_shows_errors_beside_them(language: str) -> None:
    reading = read_form(
        {"category": "pungli", "description": "pendek", "reporter_name": NAME, "phone": PHONE},
        language,  # type: ignore[arg-type]
    )
    page = _html(
        "complaint_new.html",
        categories=CATEGORIES,
        kinds=KIND_CHOICES,
        values=reading.values,
        errors=reading.errors,
        lang_query=f"?lang={language}",
    )
    assert page.count("<h1") == 1 and f'<html lang="{language}">' in page
    for name in FIELDS:
        if name == "kind":  # radio buttons, each labelled, under one legend
            assert page.count('name="kind" type="radio"') == 3 and "<legend>" in page
            assert 'id="kind-pengaduan" name="kind" type="radio" value="pengaduan" checked' in page
            continue
        assert f'name="{name}"' in page and f'<label for="{name}"' in page, name
    assert re.search(r'id="description"[^>]*aria-invalid="true"', page)
    assert 'id="description-error"' in page and 'id="phone-error"' not in page
    assert '<option value="pungli" selected>' in page
    assert ("Illegal fee" if language == "en" else "Pungutan liar") in page
    assert NAME not in page and PHONE not in page
    assert f'action="/complaints/new?lang={language}"' in page


def test_the_status_page_shows_the_code_status_step_and_answer() -> None:
    due = datetime(2025, 5, 15, 9, 0, tzinfo=UTC)
    status = ComplaintStatus(
        complaint_code="P23456789A",
        kind="permintaan_informasi",
        kind_text="Permintaan informasi publik",
        category="pungli",
        category_name="Pungutan liar",
        status="responded",
        status_text="Sudah dijawab",
        step="auto_close",
        step_text="Menunggu balasan Anda",
        step_due_at=due,
        step_due_text="Kamis, 15 Mei 2025 pukul 16.00 WIB",
        opd="INSPEKTORAT",
        response_text="Baris satu\nBaris <dua>",
        responded_at=due,
        extension_reason="Data masih dihimpun",
        rejection_text=None,
        linked_request_progress="ready_for_pickup",
        linked_request_progress_text="Siap diambil",
        created_at=due,
        updated_at=due,
    )
    page = _html("complaint_status.html", s=status, lang_query="")
    assert '<span class="code" id="complaint-code">P23456789A</span>' in page
    assert re.search(r'id="status"[^>]*>Sudah dijawab<', page)
    assert 'id="deadline"><time datetime="2025-05-15T09:00:00+00:00">' in page
    assert "Baris &lt;dua&gt;" in page  # escaped
    assert re.search(r'id="request-progress"[^>]*>Siap diambil<', page)
    assert re.search(r'id="kind" data-kind="permintaan_informasi">Permintaan informasi', page)
    assert 'id="extension-reason">Data masih dihimpun<' in page
    assert page.count("<h1") == 1


def test_a_complaint_code_is_read_as_typed_and_a_mistyped_one_is_told() -> None:
    code = codes.new_code(9, prefix="P")
    assert normalised_code(f" {code[:4].lower()}-{code[4:]} ") == code
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    with pytest.raises(NotFound) as mistyped:
        normalised_code(wrong)
    assert "salah ketik" in mistyped.value.message_id
    for other in ("", "T23456789A", code + "2"):
        with pytest.raises(NotFound) as unknown:
            normalised_code(other)
        assert "tidak ditemukan" in unknown.value.message_id


class Refusing:
    async def take(self, key: str, **_: Any) -> Decision:
        return Decision(False, 12.5)


def test_the_pages_answer_a_flood_with_a_429_page_and_retry_after() -> None:
    app = create_app()
    # No lifespan and no pool: each request is refused before a database is asked.
    app.state.runtime.pool = None
    client = TestClient(app)
    # Both buckets already empty (the buckets themselves are in PostgreSQL:
    # tests/integration/test_shared_rate_limits.py).
    app.state.complaint_status_rate_limiter = Refusing()
    app.state.complaint_rate_limiter = Refusing()

    looked_up = client.get(f"/complaints/status/{codes.new_code(9, prefix='P')}?lang=en")
    assert looked_up.status_code == 429 and int(looked_up.headers["retry-after"]) >= 1
    assert "Too many requests from this address" in looked_up.text
    assert looked_up.headers["content-type"].startswith("text/html")
    twin = client.get(f"/v1/complaint-status/{codes.new_code(9, prefix='P')}")
    assert twin.status_code == 429 and twin.json()["code"] == "rate_limited"

    filed = client.post(
        "/complaints/new",
        data={"category": "pungli", "description": "Petugas meminta uang tambahan"},
    )
    assert filed.status_code == 429 and "Terlalu banyak pengaduan" in filed.text
