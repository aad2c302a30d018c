"""Outreach lists on the running stack: Dukcapil uploads residents who lack a
document, the desa officer works the list of their desa and turns an entry
into an application in one step."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from mpp_shared.pii import mask_nik
from tests.support.auth import auth
from tests.support.identities import nik

HEADER = "nik,full_name,desa_code,service_code,phone,address"
DESA_A, DESA_B = "3506172001", "3506172002"  # two desa of Kecamatan Pare
OFFICER_A = {"subject": "desa-officer-1", "counter": f"DESA-{DESA_A}"}
OFFICER_B = {"subject": "desa-officer-2", "counter": f"DESA-{DESA_B}"}
AKTA_PAPERS = [
    "surat_keterangan_lahir",
    "buku_nikah_orang_tua",
    "kartu_keluarga",
    "ktp_el_orang_tua",
]
SITI_PHONE = "085712345678"


def niks(count: int) -> list[str]:
    """Valid NIKs of Kecamatan Pare, new to the session. Their last two digits
    differ: a masked NIK shows only those, and the tests tell the officer's
    entries apart by it."""
    made = [nik("350617") for _ in range(count)]
    assert len({value[-2:] for value in made}) == count, made
    return made


async def upload(
    http: httpx.AsyncClient, intake: str, lines: list[str], **headers: str
) -> httpx.Response:
    return await http.post(
        f"{intake}/v1/outreach/lists",
        params={"name": f"Belum punya dokumen - Pare {uuid.uuid4().hex[:6]}"},
        content="\n".join([HEADER, *lines]).encode(),
        headers={**auth("supervisor"), "Content-Type": "text/csv", **headers},
    )


async def entries(
    http: httpx.AsyncClient, intake: str, headers: dict[str, str], **params: Any
) -> httpx.Response:
    return await http.get(f"{intake}/v1/outreach/entries", params=params, headers=headers)


async def test_desa_officer_works_the_list_of_their_desa_and_applies_in_one_step(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    siti, dewi, budi = niks(3)
    bad_nik = "3506173202660001"  # day 32: cannot exist
    uploaded = await upload(
        http,
        intake,
        [
            f"{siti},Siti Rahayu,{DESA_A},akta_kelahiran,{SITI_PHONE},RT 02 RW 01",
            f"{dewi},Dewi Lestari,{DESA_A},kk,,",
            f"{bad_nik},Ani Wulandari,{DESA_A},kk,,",
            f"{budi},Budi Santoso,{DESA_B},kk,081234567890,",
        ],
    )
    assert uploaded.status_code == 201, uploaded.text
    report = uploaded.json()
    assert (report["rows"], report["accepted"], report["rejected"]) == (4, 3, 1)
    [bad] = report["rejected_rows"]
    assert (bad["line"], bad["field"], bad["code"]) == (4, "nik", "nik_invalid")
    assert bad["reason"].startswith("NIK tidak sah")
    assert bad["nik_masked"] == mask_nik(bad_nik)
    assert bad_nik not in uploaded.text and "Ani" not in uploaded.text
    list_id = report["id"]

    trail = await http.get(
        f"{intake}/v1/audit", params={"target_id": list_id}, headers=auth("supervisor")
    )
    [entry] = trail.json()["items"]
    assert (entry["action"], entry["detail"]["accepted"]) == ("outreach.upload", 3)
    again = await http.get(f"{intake}/v1/outreach/lists/{list_id}", headers=auth("supervisor"))
    assert again.status_code == 200
    assert again.json()["rejected_rows"][0]["line"] == 4

    # The desa officer sees their desa's entries only, masked.
    officer_a = auth("frontdesk", **OFFICER_A)
    seen = await entries(http, intake, officer_a, list_id=list_id)
    assert seen.status_code == 200, seen.text
    page = seen.json()
    assert page["total"] == 2
    assert {e["desa_code"] for e in page["items"]} == {DESA_A}
    assert {e["nik_masked"] for e in page["items"]} == {mask_nik(siti), mask_nik(dewi)}
    for secret in (
        siti,
        dewi,
        budi,
        "Siti",
        "Rahayu",
        "Dewi",
        "Lestari",
        SITI_PHONE,
        "+6285712345678",
    ):
        assert secret not in seen.text, secret
    by_nik = {e["nik_masked"]: e for e in page["items"]}
    entry_siti, entry_dewi = by_nik[mask_nik(siti)], by_nik[mask_nik(dewi)]
    assert entry_siti["status"] == "open" and entry_siti["kecamatan_code"] == "350617"
    assert entry_siti["phone_masked"] and entry_siti["address"] == "RT 02 RW 01"
    assert entry_siti["name_masked"] == "S*** R***"

    # Asking for another desa, or holding no desa counter, is refused.
    other = await entries(http, intake, officer_a, desa_code=DESA_B)
    assert other.status_code == 403 and other.json()["code"] == "other_desa"
    at_mpp = await entries(http, intake, auth("frontdesk"))  # counter MPP-01
    assert at_mpp.status_code == 403
    assert at_mpp.json()["code"] == "not_a_desa_counter"
    assert "DESA-" in at_mpp.json()["detail"]
    # The supervisor sees every desa and may pick one.
    everyone = await entries(http, intake, auth("supervisor"), list_id=list_id)
    assert everyone.json()["total"] == 3
    only_b = await entries(http, intake, auth("supervisor"), list_id=list_id, desa_code=DESA_B)
    assert [e["nik_masked"] for e in only_b.json()["items"]] == [mask_nik(budi)]

    # A visit where nobody was home.
    visit = await http.post(
        f"{intake}/v1/outreach/entries/{entry_dewi['id']}/follow-ups",
        json={"outcome": "not_home", "note": "Rumah kosong, kembali Senin"},
        headers=officer_a,
    )
    assert visit.status_code == 201, visit.text
    assert visit.json()["status"] == "not_home"
    [follow_up] = visit.json()["follow_ups"]
    assert (follow_up["outcome"], follow_up["by"], follow_up["note"]) == (
        "not_home",
        "desa-officer-1",
        "Rumah kosong, kembali Senin",
    )
    not_home = await entries(http, intake, officer_a, list_id=list_id, status="not_home")
    assert [e["id"] for e in not_home.json()["items"]] == [entry_dewi["id"]]

    # Siti's entry becomes an application in one step (a retry answers the same).
    key = str(uuid.uuid4())
    applied = await http.post(
        f"{intake}/v1/outreach/entries/{entry_siti['id']}/application",
        json={"documents": AKTA_PAPERS, "preferred_channel": "sms"},
        headers={**officer_a, "Idempotency-Key": key},
    )
    assert applied.status_code == 201, applied.text
    application = applied.json()
    assert application["channel"] == "desa" and application["tracking_code"]
    assert application["service_code"] == "akta_kelahiran"
    assert application["status"] == "submitted"
    assert application["nik_masked"] == mask_nik(siti)
    assert siti not in applied.text and "Rahayu" not in applied.text
    retried = await http.post(
        f"{intake}/v1/outreach/entries/{entry_siti['id']}/application",
        json={"documents": AKTA_PAPERS, "preferred_channel": "sms"},
        headers={**officer_a, "Idempotency-Key": key},
    )
    assert retried.status_code == 201 and retried.json()["id"] == application["id"]

    shown = await http.get(f"{intake}/v1/outreach/entries/{entry_siti['id']}", headers=officer_a)
    assert shown.json()["status"] == "applied"
    assert shown.json()["tracking_code"] == application["tracking_code"]
    assert shown.json()["application_id"] == application["id"]
    by_verifier = await http.get(
        f"{intake}/v1/applications/{application['id']}", headers=auth("verifier")
    )
    assert by_verifier.status_code == 200
    assert by_verifier.json()["channel"] == "desa"
    assert by_verifier.json()["tracking_code"] == application["tracking_code"]
    submitted = await http.get(
        f"{intake}/v1/audit", params={"target_id": application["id"]}, headers=auth("supervisor")
    )
    [record] = submitted.json()["items"]
    assert (record["actor"], record["counter"], record["action"]) == (
        "desa-officer-1",
        f"DESA-{DESA_A}",
        "application.submit",
    )

    # An applied entry takes no second application and no more follow-ups.
    twice = await http.post(
        f"{intake}/v1/outreach/entries/{entry_siti['id']}/application",
        json={"documents": AKTA_PAPERS},
        headers=officer_a,
    )
    assert twice.status_code == 409 and twice.json()["current_state"] == "applied"
    late = await http.post(
        f"{intake}/v1/outreach/entries/{entry_siti['id']}/follow-ups",
        json={"outcome": "visited"},
        headers=officer_a,
    )
    assert late.status_code == 409 and late.json()["current_state"] == "applied"

    # Another desa's officer can neither see nor change these entries.
    officer_b = auth("frontdesk", **OFFICER_B)
    for method, path, payload in (
        ("GET", f"/v1/outreach/entries/{entry_siti['id']}", None),
        ("POST", f"/v1/outreach/entries/{entry_dewi['id']}/follow-ups", {"outcome": "visited"}),
        ("POST", f"/v1/outreach/entries/{entry_dewi['id']}/application", {"documents": []}),
    ):
        refused = await http.request(method, f"{intake}{path}", json=payload, headers=officer_b)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["code"] == "other_desa"
    mine = await entries(http, intake, officer_b, list_id=list_id)
    assert [e["nik_masked"] for e in mine.json()["items"]] == [mask_nik(budi)]
    unknown = await http.post(
        f"{intake}/v1/outreach/entries/{uuid.uuid4()}/follow-ups",
        json={"outcome": "visited"},
        headers=officer_a,
    )
    assert unknown.status_code == 404


async def test_refusals_keep_the_entry_open(stack: Stack, http: httpx.AsyncClient) -> None:
    intake = stack.services["intake"].url
    rudi, wati = niks(2)
    uploaded = await upload(
        http,
        intake,
        [f"{rudi},Rudi Hartono,{DESA_B},kk,,", f"{wati},Wati Susanti,{DESA_B},ktp_el,,"],
    )
    assert uploaded.status_code == 201, uploaded.text
    list_id = uploaded.json()["id"]
    officer_b = auth("frontdesk", **OFFICER_B)
    page = (await entries(http, intake, officer_b, list_id=list_id)).json()
    by_service = {e["service_code"]: e for e in page["items"]}

    # Rudi already applied for a KK at the MPP: the same 409 as at the counter.
    at_mpp = await http.post(
        f"{intake}/v1/applications",
        json={"service_code": "kk", "nik": rudi, "full_name": "Rudi Hartono", "documents": []},
        headers=auth("frontdesk"),
    )
    assert at_mpp.status_code == 201, at_mpp.text
    duplicate = await http.post(
        f"{intake}/v1/outreach/entries/{by_service['kk']['id']}/application",
        json={"documents": []},
        headers=officer_b,
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_application"
    assert duplicate.json()["first_tracking_code"] == at_mpp.json()["tracking_code"]
    # KTP-el needs fingerprints and a photo: not offered at the desa.
    not_offered = await http.post(
        f"{intake}/v1/outreach/entries/{by_service['ktp_el']['id']}/application",
        json={"documents": []},
        headers={**officer_b, "Accept-Language": "en"},
    )
    assert not_offered.status_code == 422
    error = not_offered.json()["errors"][0]
    assert (error["field"], error["type"]) == ("channel", "channel_not_offered")
    # The preferred channel needs a contact, and the list holds no phone for Rudi.
    no_contact = await http.post(
        f"{intake}/v1/outreach/entries/{by_service['kk']['id']}/application",
        json={"documents": [], "preferred_channel": "whatsapp"},
        headers=officer_b,
    )
    assert no_contact.status_code == 422
    assert no_contact.json()["errors"][0]["type"] == "preferred_channel_without_contact"
    assert "whatsapp" in no_contact.json()["detail"] and rudi not in no_contact.text
    still = (await entries(http, intake, officer_b, list_id=list_id)).json()["items"]
    assert {e["status"] for e in still} == {"open"}
    assert all(e["application_id"] is None for e in still)

    # Listed again while the entry is still worked: refused row, not a second entry.
    relisted = await upload(http, intake, [f"{rudi},Rudi Hartono,{DESA_B},kk,,"])
    assert relisted.status_code == 201
    assert (relisted.json()["accepted"], relisted.json()["rejected"]) == (0, 1)
    assert relisted.json()["rejected_rows"][0]["code"] == "already_listed"


async def test_unusable_uploads_are_refused_with_the_reason(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    url = f"{intake}/v1/outreach/lists"
    csv = {"Content-Type": "text/csv"}

    async def post(content: bytes, **headers: str) -> httpx.Response:
        return await http.post(
            url,
            params={"name": "Uji"},
            content=content,
            headers={**auth("supervisor"), **csv, **headers},
        )

    empty = await post(b"")
    assert empty.status_code == 422 and empty.json()["code"] == "empty_file"
    assert "kosong" in empty.json()["detail"]
    headless = await post(
        f"{niks(1)[0]},Siti Rahayu,{DESA_A},kk,,".encode(), **{"Accept-Language": "en"}
    )
    assert headless.status_code == 422 and headless.json()["code"] == "header_missing"
    assert "header row" in headless.json()["detail"]
    too_large = await post(HEADER.encode() + b"\n" + b"x" * (5 * 1024 * 1024))
    assert too_large.status_code == 413 and "5 MB" in too_large.json()["detail"]
    as_json = await http.post(url, params={"name": "Uji"}, json={}, headers=auth("supervisor"))
    assert as_json.status_code == 415
    by_front_desk = await http.post(
        url,
        params={"name": "Uji"},
        content=HEADER.encode(),
        headers={**auth("frontdesk", **OFFICER_A), **csv},
    )
    assert by_front_desk.status_code == 403


async def test_desa_and_counter_at_the_same_moment_make_one_application(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    [ani] = niks(1)
    uploaded = await upload(http, intake, [f"{ani},Ani Wulandari,{DESA_A},kk,,"])
    officer_a = auth("frontdesk", **OFFICER_A)
    [entry] = (await entries(http, intake, officer_a, list_id=uploaded.json()["id"])).json()[
        "items"
    ]
    at_desa = http.post(
        f"{intake}/v1/outreach/entries/{entry['id']}/application",
        json={"documents": []},
        headers=officer_a,
    )
    at_counter = [
        http.post(
            f"{intake}/v1/applications",
            json={"service_code": "kk", "nik": ani, "full_name": "Ani Wulandari"},
            headers=auth("frontdesk"),
        )
        for _ in range(5)
    ]
    answers = await asyncio.gather(at_desa, *at_counter)
    created = [r for r in answers if r.status_code == 201]
    assert len(created) == 1, [r.text for r in answers]
    refused = [r for r in answers if r.status_code != 201]
    assert {r.status_code for r in refused} == {409}
    first = created[0].json()["tracking_code"]
    assert {r.json()["first_tracking_code"] for r in refused} == {first}
    shown = (
        await http.get(f"{intake}/v1/outreach/entries/{entry['id']}", headers=officer_a)
    ).json()
    if created[0] is answers[0]:
        assert (shown["status"], shown["tracking_code"]) == ("applied", first)
    else:
        assert (shown["status"], shown["tracking_code"]) == ("open", None)
