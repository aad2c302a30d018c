"""Intake's public pages over HTTP on the running stack, read as a citizen
reads them: the tracking page of a code (its timeline, the next step, the
missing papers, the pickup point and its hours), a friendly page for an
unknown or mistyped code, the form and its redirect, and the catalog with
each service's requirements. `HtmlPage` (below) reads a page's visible text
and its elements by id and class; the receipt tests use it too."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from mpp_shared import codes
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import nik, phone
from tests.support.polling import eventually

MONTHS_ID = (
    "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"
).split()
_VOID = {"img", "br", "meta", "input", "link", "hr", "source", "wbr"}
_HIDDEN = {"head", "style", "script"}


def squeeze(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class HtmlPage(HTMLParser):
    """A page as a person sees it: `text` (the body's visible text, white
    space squeezed), `title`, and its elements (`by_id`, `all`)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[tuple[Element, int]] = []
        self._chunks: list[str] = []
        self._hidden = 0
        self.title = ""
        self.feed(html)
        self.close()
        self.text = squeeze(" ".join(self._chunks))
        self.title = squeeze(self.title)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        if self._open:
            self._open[-1][0].children.append(element)
        self.elements.append(element)
        if tag in _VOID:
            return
        self._open.append((element, len(self._chunks)))
        self._hidden += tag in _HIDDEN

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            element, start = self._open.pop()
            self._hidden -= element.tag in _HIDDEN
            element.text = squeeze(" ".join(self._chunks[start:]))
            if element.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1][0].tag == "title":
            self.title += data
        elif not self._hidden:
            self._chunks.append(data)

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    def by_id(self, element_id: str) -> Element:
        found = [e for e in self.elements if e.attrs.get("id") == element_id]
        assert len(found) == 1, f"expected one element #{element_id}, found {len(found)}"
        return found[0]

    def has_id(self, element_id: str) -> bool:
        return any(e.attrs.get("id") == element_id for e in self.elements)

    def items(self, element_id: str) -> list[str]:
        """The texts of the list items of the list `element_id`."""
        return [c.text for c in self.by_id(element_id).children if c.tag == "li"]

    @property
    def lang(self) -> str:
        return self.all("html")[0].attrs.get("lang", "")


def read_page(answer: httpx.Response, status: int = 200) -> HtmlPage:
    """The answer as a page: the status asked for, HTML, the security headers."""
    assert answer.status_code == status, (answer.status_code, answer.text[:2000])
    assert answer.headers["content-type"].startswith("text/html")
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "Traceback" not in answer.text and "<script" not in answer.text.lower()
    page = HtmlPage(answer.text)
    assert len(page.all("h1")) == 1, "one heading says what the page is"
    return page


def application(service: str, documents: list[str], resident: str, **extra: Any) -> dict[str, Any]:
    return {
        "service_code": service,
        "nik": resident,
        "full_name": "Ratna Kusumawati",
        "phone": phone("0813").typed,
        "channel": "mpp_desk",
        "documents": documents,
        **extra,
    }


async def pickup_point(http: httpx.AsyncClient, intake: str, code: str) -> dict[str, Any]:
    points = expect(await http.get(f"{intake}/v1/pickup-points"))["items"]
    found: dict[str, Any] = next(p for p in points if p["code"] == code)
    return found


async def test_tracking_page_shows_the_timeline_next_step_and_pickup_point(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    resident = nik("350617")  # Kecamatan Pare: collected at KEC-PARE
    created = expect(
        await http.post(
            f"{intake}/v1/applications",
            json=application("ktp_el", ["kartu_keluarga", "bukti_usia_17"], resident),
            headers=auth("frontdesk"),
        ),
        201,
    )
    expect(
        await http.post(
            f"{intake}/v1/applications/{created['id']}/verification",
            json={"decision": "verified"},
            headers=auth("verifier"),
        )
    )
    code = created["tracking_code"]

    async def queued() -> dict[str, Any] | None:
        answer = expect(await http.get(f"{intake}/v1/track/{code}"))
        return answer if "queued" in [s["step"] for s in answer["timeline"]] else None

    tracked: dict[str, Any] = await eventually(queued, what="the document job is queued")
    point = await pickup_point(http, intake, "KEC-PARE")
    # The JSON twin only gained fields: the point's address and hours, words per step.
    assert tracked["pickup_point"] == "KEC-PARE"
    assert tracked["pickup_point_address"] == point["address"]
    assert tracked["pickup_point_hours"] == point["opening_hours"]
    assert [s["label"] for s in tracked["timeline"]][:2] == [
        "Permohonan diterima lengkap",
        "Berkas diperiksa dan dinyatakan sah",
    ]

    answer = await http.get(f"{intake}/track/{code}")
    page = read_page(answer)
    assert answer.headers["cache-control"] == "no-store"
    assert page.lang == "id"
    assert "Status permohonan" in page.title and code in page.title
    assert page.all("h1")[0].text == "Status permohonan"
    assert page.all(cls="code")[0].text == code
    assert page.by_id("service").text == "KTP Elektronik (KTP-el)"
    assert page.by_id("status").text == "Masuk antrean pencetakan"
    assert page.by_id("next-step").text == tracked["next_step"]
    assert any(month in page.by_id("promise").text for month in MONTHS_ID)
    assert page.by_id("promise").text.endswith("WIB")
    timeline = page.all("ol", cls="timeline")
    assert len(timeline) == 1
    steps = [li.text for li in timeline[0].children if li.tag == "li"]
    assert len(steps) == len(tracked["timeline"])
    assert steps[0].startswith("Permohonan diterima lengkap")
    assert steps[1].startswith("Berkas diperiksa dan dinyatakan sah")
    assert any(s.startswith("Masuk antrean pencetakan") for s in steps)
    assert all("WIB" in s for s in steps)
    assert page.by_id("pickup-point").text.startswith("Kantor Kecamatan Pare")
    assert page.by_id("pickup-address").text == point["address"]
    assert page.items("hours") == [
        "Senin–Kamis 08.00–14.00",
        "Jumat 08.00–11.00",
        "Sabtu–Minggu tutup",
    ]
    assert "KTP-el asli pemohon" in page.items("bring")
    assert not page.has_id("missing")
    assert resident not in answer.text and "Ratna" not in answer.text
    assert page.by_id("code").attrs["name"] == "code"  # the form to track another code

    english = read_page(await http.get(f"{intake}/track/{code}", params={"lang": "en"}))
    assert english.lang == "en"
    assert english.all("h1")[0].text == "Application status"
    assert english.by_id("status").text == "Waiting to be produced"
    assert "Papers checked and accepted" in english.all("ol", cls="timeline")[0].text
    assert english.items("hours")[0] == "Monday–Thursday 08:00–14:00"
    by_header = read_page(
        await http.get(f"{intake}/track/{code}", headers={"Accept-Language": "en"})
    )
    assert by_header.lang == "en"


async def test_tracking_page_names_the_missing_papers_as_the_counter_did(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    created = expect(
        await http.post(
            f"{intake}/v1/applications",
            json=application("akta_kelahiran", ["surat_keterangan_lahir", "kartu_keluarga"], nik()),
            headers=auth("frontdesk"),
        ),
        201,
    )
    counter_names = [m["name"] for m in created["missing_requirements"]]
    assert len(counter_names) == 2
    page = read_page(await http.get(f"{intake}/track/{created['tracking_code']}"))
    assert page.items("missing") == counter_names
    assert page.by_id("status").text == "Permohonan diterima, persyaratan belum lengkap"
    assert page.by_id("next-step").text == created["next_step"]
    assert page.by_id("promise").text == "Ditetapkan setelah persyaratan lengkap"
    # What to bring is the missing papers, said once.
    assert not page.has_id("bring")
    assert page.by_id("bring-missing").text == "Bawa persyaratan ini ke loket."
    [only] = [li for li in page.all("ol", cls="timeline")[0].children if li.tag == "li"]
    assert only.text.startswith("Permohonan diterima, persyaratan belum lengkap")


async def test_an_unknown_or_mistyped_code_gets_a_friendly_page_with_the_form(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    unknown = codes.new_code(10)  # a valid check character, no application
    answer = await http.get(f"{intake}/track/{unknown}")
    page = read_page(answer, 404)
    assert answer.headers["cache-control"] == "no-store"
    assert page.all("h1")[0].text == "Kode pelacakan tidak ditemukan"
    assert "Kode pelacakan tidak ditemukan" in page.title
    assert unknown in page.text
    form = page.all("form")[0]
    assert form.attrs["method"] == "get" and form.attrs["action"].endswith("/track")
    [label] = page.all("label")
    assert label.attrs["for"] == "code" and label.text == "Kode pelacakan"
    assert page.by_id("code").attrs["value"] == unknown

    typo = unknown[:-1] + ("2" if unknown[-1] != "2" else "3")
    page = read_page(await http.get(f"{intake}/track/{typo}"), 422)
    assert page.all("h1")[0].text == "Kode pelacakan tidak sah"
    assert "periksa kembali penulisannya" in page.text
    assert page.all("label")[0].text == "Kode pelacakan"

    english = read_page(await http.get(f"{intake}/track/abc", params={"lang": "en"}), 422)
    assert english.lang == "en"
    assert english.all("h1")[0].text == "This tracking code is not valid"
    assert "check how it was typed" in english.text
    assert english.all("label")[0].text == "Tracking code"

    english = read_page(
        await http.get(f"{intake}/track/{unknown}", headers={"Accept-Language": "en"}), 404
    )
    assert english.all("h1")[0].text == "Tracking code not found"


async def test_the_tracking_form_redirects_to_the_code_page(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    page = read_page(await http.get(f"{intake}/track"))
    assert page.all("h1")[0].text == "Lacak permohonan"
    [label] = page.all("label")
    assert label.text == "Kode pelacakan" and label.attrs["for"] == "code"
    assert page.by_id("code").attrs["name"] == "code"

    code = codes.new_code(10)
    typed = f" {code[:4].lower()}-{code[4:]} "
    moved = await http.get(f"{intake}/track", params={"code": typed})
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/track/{code}"
    moved = await http.get(f"{intake}/track", params={"code": code, "lang": "en"})
    assert moved.status_code == 303 and moved.headers["location"] == f"/track/{code}?lang=en"
    followed = await http.get(f"{intake}/track", params={"code": typed}, follow_redirects=True)
    assert followed.status_code == 404 and str(followed.url) == f"{intake}/track/{code}"

    empty = read_page(await http.get(f"{intake}/track", params={"code": " "}), 422)
    assert empty.by_id("code-error").text == "Isi kode pelacakan."
    assert empty.by_id("code").attrs["aria-invalid"] == "true"


async def test_services_page_lists_the_catalog_and_each_service_its_requirements(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    catalog = expect(await http.get(f"{intake}/v1/services"))["items"]
    page = read_page(await http.get(f"{intake}/services"))
    assert page.lang == "id"
    assert page.all("h1")[0].text == "Layanan dan persyaratan"
    assert "Layanan dan persyaratan" in page.title
    links = {
        a.text: a.attrs["href"]
        for li in page.by_id("services").children
        for a in li.children
        if a.tag == "a"
    }
    assert links == {s["name"]: f"{intake}/services/{s['code']}" for s in catalog}

    birth = expect(await http.get(f"{intake}/v1/services/akta_kelahiran"))
    page = read_page(await http.get(f"{intake}/services/akta_kelahiran"))
    assert page.all("h1")[0].text == "Akta Kelahiran"
    assert "Akta Kelahiran" in page.title
    assert "Rp 0" in page.by_id("fee").text
    assert page.by_id("sla").text == "1 hari kerja"
    requirements = page.items("requirements")
    assert len(requirements) == len(birth["requirements"])
    for shown, requirement in zip(requirements, birth["requirements"], strict=True):
        assert shown.startswith(requirement["name"])
        for alternative in requirement["alternatives"]:
            assert alternative["name"] in shown
    assert "SPTJM kebenaran sebagai pasangan suami istri" in page.by_id("requirements").text
    points = page.items("points")
    assert len(points) == len(birth["pickup_points"])
    mpp = await pickup_point(http, intake, "MPP")
    assert any(mpp["name"] in p and mpp["address"] in p and "Senin" in p for p in points)

    english = read_page(await http.get(f"{intake}/services/akta_kelahiran?lang=en"))
    assert english.lang == "en"
    assert english.all("h1")[0].text == "Birth certificate"
    assert "Parents' marriage book or certificate" in english.by_id("requirements").text
    assert "Free (Rp 0)" in english.by_id("fee").text

    unknown = read_page(await http.get(f"{intake}/services/paspor"), 404)
    assert unknown.all("h1")[0].text == "Layanan tidak ditemukan"
