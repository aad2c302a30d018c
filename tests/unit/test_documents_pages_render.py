"""The documents service's public pages as a reader sees them, rendered by the
app itself (no database: the use cases are stood in for): the verification
page says valid, revoked or not found in words (not colour alone) and shows
the holder masked only; the waiting room's board lists codes in large type,
reloads itself, and names nobody; a mistyped code or point gets a friendly
page. `read_page` is shared with the end-to-end tests of these pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mpp_documents.domain.register import IssuedDocument
from mpp_documents.main import create_app
from mpp_documents.usecases import pickup_board, register
from mpp_documents.usecases.pickup_board import PublicBoard, ReadyCode
from mpp_shared.errors import NotFound
from mpp_shared.web import get_pool

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
HIDDEN = {"head", "style", "script", "title"}


@dataclass
class PageView:
    """What a page shows: its visible text, and the text of each element by
    id and by class, its `lang`, its headings 1, its meta refresh."""

    text: str = ""
    by_id: dict[str, str] = field(default_factory=dict)
    attrs_by_id: dict[str, dict[str, str]] = field(default_factory=dict)
    by_class: dict[str, list[str]] = field(default_factory=dict)
    lang: str | None = None
    h1_count: int = 0
    refresh: str | None = None
    labels_for: set[str] = field(default_factory=set)
    inputs: list[dict[str, str]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.view = PageView()
        self.open: list[tuple[str, dict[str, str], list[str]]] = []
        self.hidden = 0
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.view.lang = values.get("lang")
        if tag == "h1":
            self.view.h1_count += 1
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.view.refresh = values.get("content")
        if tag == "label" and "for" in values:
            self.view.labels_for.add(values["for"])
        if tag in ("input", "select", "textarea"):
            self.view.inputs.append(values)
        if tag in VOID:
            return
        if tag in HIDDEN:
            self.hidden += 1
        self.open.append((tag, values, []))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            name, values, parts = self.open.pop()
            text = " ".join(" ".join(parts).split())
            if "id" in values:
                self.view.by_id[values["id"]] = text
                self.view.attrs_by_id[values["id"]] = values
            for cls in values.get("class", "").split():
                self.view.by_class.setdefault(cls, []).append(text)
            if self.open:
                self.open[-1][2].extend(parts)
            if name in HIDDEN:
                self.hidden -= 1
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.visible.append(data)
        if self.open:
            self.open[-1][2].append(data)


def read_page(html: str) -> PageView:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader.view.text = " ".join(" ".join(reader.visible).split())
    return reader.view


def refresh_seconds(view: PageView) -> int:
    assert view.refresh, "no <meta http-equiv=refresh>"
    return int(view.refresh.split(";")[0])


# --- the app, its use cases stood in for --------------------------------------

HOLDER = "S*** R*** 3506**********01"


def _document(**overrides: Any) -> IssuedDocument:
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "job_id": uuid.uuid4(),
        "application_id": uuid.uuid4(),
        "doc_type": "ktp_el",
        "office": "3506",
        "year": 2026,
        "seq": 12,
        "number": "3506-KTP-2026-000012",
        "verification_code": "V7KQ3M9XH26",
        "holder_masked": HOLDER,
        # 23:30 UTC on 3 March is 06:30 WIB on 4 March: the page says the 4th.
        "issued_at": datetime(2026, 3, 3, 23, 30, tzinfo=UTC),
    }
    return IssuedDocument(**(fields | overrides))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_pool] = lambda: None
    yield TestClient(app)


def _found(monkeypatch: pytest.MonkeyPatch, document: IssuedDocument | None) -> None:
    async def look_up(_pool: Any, code: str) -> IssuedDocument:
        if document is None or code != document.verification_code:
            raise NotFound("not_found", "Tidak ada", "None")
        return document

    monkeypatch.setattr(register, "look_up_code", look_up)


def _board(monkeypatch: pytest.MonkeyPatch, codes: list[str], count: int | None = None) -> None:
    async def read(_pool: Any, point: str, *, limit: int) -> PublicBoard:
        at = datetime(2026, 3, 4, 2, 5, tzinfo=UTC)  # 09.05 WIB
        items = [ReadyCode(c, "ktp_el", at) for c in codes][:limit]
        return PublicBoard(point, at, len(codes) if count is None else count, items)

    monkeypatch.setattr(pickup_board, "read_public_board", read)


# --- verification ---------------------------------------------------------------


def test_a_valid_document_says_so_in_words_with_the_holder_masked(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _document()
    _found(monkeypatch, document)
    answer = client.get("/verify/v7kq-3m9x-h26")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    page = read_page(answer.text)
    assert page.lang == "id" and page.h1_count == 1
    assert page.by_id["status"] == "✓ SAH"
    assert page.attrs_by_id["status"]["data-status"] == "valid"
    assert page.by_id["document-type"] == "KTP Elektronik (KTP-el)"
    assert page.by_id["document-number"] == "3506-KTP-2026-000012"
    assert page.by_id["issued-on"] == "4 Maret 2026"
    assert page.by_id["holder"] == HOLDER
    assert "revoked-on" not in page.by_id

    english = read_page(client.get("/verify/V7KQ3M9XH26?lang=en").text)
    assert english.lang == "en" and english.by_id["status"] == "✓ VALID"
    assert english.by_id["issued-on"] == "4 March 2026"
    assert english.by_id["document-type"] == "Electronic identity card (KTP-el)"


def test_a_revoked_document_says_revoked_and_since_when(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    revoked = _document(
        revoked_at=datetime(2026, 5, 1, 3, 0, tzinfo=UTC),
        revoked_by="supervisor-7",
        revoke_reason="Data ibu kandung Siti Aminah salah",
    )
    _found(monkeypatch, revoked)
    answer = client.get("/verify/V7KQ3M9XH26")
    assert answer.status_code == 200
    page = read_page(answer.text)
    assert page.by_id["status"] == "✗ DICABUT"
    assert page.attrs_by_id["status"]["data-status"] == "revoked"
    assert "SAH" not in page.text.upper()
    assert page.by_id["revoked-on"] == "1 Mei 2026"
    # Who revoked it and why stay with the office.
    assert "supervisor-7" not in answer.text and "Siti" not in answer.text
    english = read_page(client.get("/verify/V7KQ3M9XH26?lang=en").text)
    assert english.by_id["status"] == "✗ REVOKED" and "VALID" not in english.text.upper()


def test_an_unknown_or_mistyped_code_gets_a_friendly_page(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _found(monkeypatch, None)
    unknown = client.get("/verify/V7KQ3M9XH26")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")
    page = read_page(unknown.text)
    assert page.by_id["status"] == "? TIDAK DITEMUKAN" and page.h1_count == 1
    assert "V7KQ3M9XH26" in page.by_id["verdict-text"]
    assert "code" in page.labels_for  # the form to try again

    for typed in ("V7KQ3M9XH27", "hello", "V" * 200):
        mistyped = client.get(f"/verify/{typed}")
        assert mistyped.status_code == 422, typed
        shown = read_page(mistyped.text)
        assert shown.by_id["status"] == "? KODE TIDAK SESUAI"
        assert "Traceback" not in mistyped.text and typed not in shown.text


def test_the_form_asks_for_the_code_and_sends_the_reader_to_its_page(client: TestClient) -> None:
    form = client.get("/verify")
    assert form.status_code == 200
    page = read_page(form.text)
    [code_input] = [i for i in page.inputs if i.get("name") == "code"]
    assert code_input["id"] in page.labels_for and page.h1_count == 1

    sent = client.get("/verify", params={"code": " v7kq-3m9x h26 "}, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, "/verify/V7KQ3M9XH26")
    english = client.get("/verify?code=V7KQ3M9XH26&lang=en", follow_redirects=False)
    assert english.headers["location"] == "/verify/V7KQ3M9XH26?lang=en"

    for nothing in ("", "  ", "a/b", "x" * 100):
        refused = client.get("/verify", params={"code": nothing}, follow_redirects=False)
        assert refused.status_code == 422, nothing
        assert "code-error" in read_page(refused.text).by_id


# --- the waiting room's board ---------------------------------------------------


def test_the_board_lists_the_ready_codes_large_and_reloads_itself(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _board(monkeypatch, ["ABCD2345EF", "GHJK6789LM"])
    answer = client.get("/board/KEC-PARE")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    page = read_page(answer.text)
    assert refresh_seconds(page) == 30
    assert page.by_class["code"] == ["ABCD2345EF", "GHJK6789LM"]
    assert "ABCD2345EF" in page.by_id["ready"] and page.by_id["point"] == "KEC-PARE"
    assert page.by_id["count"] == "2 dokumen siap diambil"
    assert "09.05 WIB, 4 Maret 2026" in page.by_id["as-of"]
    assert "empty" not in page.by_id and "*" not in page.text
    # Read from across the room: the codes in large type.
    size = re.search(r"ul\.board \.code \{[^}]*font-size: ([\d.]+)rem", answer.text)
    assert size is not None and float(size[1]) >= 2.5

    english = read_page(client.get("/board/KEC-PARE?lang=en").text)
    assert english.by_id["count"] == "2 documents ready for pickup"
    assert "09:05 WIB, 4 March 2026" in english.by_id["as-of"]


def test_an_empty_board_a_long_one_and_a_mistyped_point(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _board(monkeypatch, [])
    empty = read_page(client.get("/board/MPP").text)
    assert empty.by_id["count"] == "0 dokumen siap diambil" and "empty" in empty.by_id
    assert "code" not in empty.by_class and refresh_seconds(empty) == 30

    _board(monkeypatch, ["ABCD2345EF"], count=230)
    long = read_page(client.get("/board/MPP").text)
    assert "229" in long.by_id["more"]

    lower = client.get("/board/kec-pare?lang=en", follow_redirects=False)
    assert (lower.status_code, lower.headers["location"]) == (303, "/board/KEC-PARE?lang=en")
    wrong = client.get("/board/k_p")
    assert wrong.status_code == 422 and read_page(wrong.text).h1_count == 1
