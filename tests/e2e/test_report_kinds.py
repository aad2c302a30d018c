"""The three kinds of reports on the running stack: a request for information
due 10 working days after filing (on the working calendar), extended once
with a reason its requester is told; an aspiration past its deadline never
escalated; an answer published without the asker's personal data, found in
the public list and page, and a text holding a phone number refused."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta
from typing import Any

import asyncpg
import httpx

from mpp_devstack.stack import Stack
from tests.support.auth import auth
from tests.support.clock import WIB, ServiceClock, add_working_days, is_working_day
from tests.support.polling import eventually

NAME, PHONE, EMAIL = "Sekar Ayuningtyas", "081234567890", "sekar.ayu@example.co.id"
NIK = "3506123456780001"
QUESTION = "Berapa anggaran pelayanan Mal Pelayanan Publik tahun 2026?"
ANSWER = "Anggaran pelayanan MPP tahun 2026 sebesar Rp 1,2 miliar, rinciannya di papan informasi."


def _url(stack: Stack, path: str) -> str:
    return f"{stack.services['complaints'].url}{path}"


async def _file(http: httpx.AsyncClient, stack: Stack, **body: Any) -> dict[str, Any]:
    r = await http.post(_url(stack, "/v1/complaints"), json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _move(
    http: httpx.AsyncClient, stack: Stack, cid: str, action: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        _url(stack, f"/v1/complaints/{cid}/{action}"), json=body, headers=auth("complaint_officer")
    )


def _closing(day: datetime) -> time:
    return time(11, 30) if day.weekday() == 4 else time(15, 30)


async def test_a_request_for_information_is_due_in_ten_working_days_and_extended_once(
    stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock
) -> None:
    # Filed at 09:00 WIB on a working day: that day is day 0.
    day = service_clock.now().astimezone(WIB).date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    service_clock.travel_to(ServiceClock.local(day, 9))
    filed = await _file(
        http,
        stack,
        kind="permintaan_informasi",
        description="Mohon salinan jadwal pelayanan loket Disdukcapil tahun 2026",
        email=EMAIL,
    )
    assert filed["kind"] == "permintaan_informasi"
    cid = filed["id"]

    async def information_step() -> dict[str, Any] | None:
        r = await http.get(_url(stack, f"/v1/complaints/{cid}"), headers=auth("complaint_officer"))
        found = r.json()
        return found if found["step"] == "information" else None

    state = await eventually(information_step, what="the information step")
    due = datetime.fromisoformat(state["step_due_at"]).astimezone(WIB)
    assert due.date() == add_working_days(day, 10) and due.time() == _closing(due)
    assert state["kind"] == "permintaan_informasi" and state["extended_at"] is None

    missing = await _move(http, stack, cid, "extension", {})
    assert missing.status_code == 422 and "reason" in missing.text
    reason = "Data jadwal masih dihimpun dari tiga OPD"
    extended = await _move(http, stack, cid, "extension", {"reason": reason})
    assert extended.status_code == 200, extended.text
    new_due = datetime.fromisoformat(extended.json()["step_due_at"]).astimezone(WIB)
    assert new_due.date() == add_working_days(due.date(), 7)
    assert new_due.time() == _closing(new_due)
    assert extended.json()["extension_reason"] == reason
    again = await _move(http, stack, cid, "extension", {"reason": "Masih butuh waktu lagi"})
    assert again.status_code == 409 and again.json()["code"] == "already_extended"
    complaint = await _file(http, stack, description="Antrean loket 3 terlalu lama sekali")
    refused = await _move(http, stack, complaint["id"], "extension", {"reason": reason})
    assert refused.status_code == 409 and refused.json()["code"] == "not_an_information_request"

    # The requester is told the new deadline and why, by e-mail.
    async def told() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"complaint_id": cid},
            headers=auth("complaint_officer"),
        )
        found = [
            m
            for m in r.json()["items"]
            if m["source_event_type"] == "mpp.complaint.deadline_extended.v1"
        ]
        return found or None

    [message] = await eventually(told, what="the extension's message")
    assert message["channel"] == "email" and reason in message["body"]
    assert "diperpanjang" in message["body"]

    status = await http.get(_url(stack, f"/v1/complaint-status/{filed['complaint_code']}"))
    assert status.json()["kind"] == "permintaan_informasi"
    assert status.json()["extension_reason"] == reason


async def test_an_aspiration_past_its_deadline_is_not_escalated(
    stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock
) -> None:
    filed = await _file(
        http, stack, kind="aspirasi", description="Mohon loket dibuka juga pada hari Sabtu"
    )
    cid = filed["id"]
    for action, body in (("verification", {"decision": "verified"}), ("assignment", {})):
        r = await _move(http, stack, cid, action, body)
        assert r.status_code == 200, r.text
        assert r.json()["kind"] == "aspirasi"

    conn = await asyncpg.connect(stack.services["complaints"].env["DATABASE_URL"])
    try:
        timer = await conn.fetchrow(
            "SELECT id, step, due_at FROM complaint_deadlines "
            "WHERE complaint_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
            uuid.UUID(cid),
        )
        assert timer["step"] == "follow_up"
        service_clock.travel_to(timer["due_at"] + timedelta(seconds=1))

        async def looked_at() -> bool:
            fired = await conn.fetchval(
                "SELECT fired_at FROM complaint_deadlines WHERE id = $1", timer["id"]
            )
            return fired is not None

        # The scheduler has dealt with the missed step: marked, nothing emitted.
        await eventually(looked_at, what="the scheduler passing the aspiration's deadline")
        escalations = await conn.fetch(
            "SELECT payload FROM outbox WHERE event_type = 'mpp.complaint.escalated.v1' "
            "AND key = $1",
            cid,
        )
        assert [json.loads(r["payload"]) for r in escalations] == []
    finally:
        await conn.close()
    queue = await http.get(
        _url(stack, "/v1/complaints"),
        params={"kind": "aspirasi", "overdue": "true"},
        headers=auth("complaint_officer"),
    )
    assert queue.status_code == 200
    assert [i["id"] for i in queue.json()["items"]] == [cid]  # late all the same
    assert queue.json()["items"][0]["kind"] == "aspirasi"


async def test_a_published_answer_is_found_without_the_askers_personal_data(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    filed = await _file(
        http,
        stack,
        kind="permintaan_informasi",
        description=f"Saya {NAME} (NIK {NIK}, {PHONE}) bertanya anggaran pelayanan MPP 2026",
        reporter_name=NAME,
        phone=PHONE,
        email=EMAIL,
    )
    cid, code = filed["id"], filed["complaint_code"]
    publish_url = _url(stack, f"/v1/complaints/{cid}/publication")
    body = {"question": QUESTION, "answer": ANSWER}
    early = await http.post(publish_url, json=body, headers=auth("complaint_officer"))
    assert early.status_code == 409 and early.json()["code"] == "not_publishable"
    for action, step in (
        ("verification", {"decision": "verified"}),
        ("assignment", {}),
        ("progress", {}),
        ("response", {"text": ANSWER}),
    ):
        r = await _move(http, stack, cid, action, step)
        assert r.status_code == 200, (action, r.text)

    no_consent = await http.post(publish_url, json=body, headers=auth("complaint_officer"))
    assert no_consent.status_code == 409 and no_consent.json()["code"] == "no_consent"
    consent = {"given_by": "phone", "note": "Setuju lewat telepon"}
    with_phone = await http.post(
        publish_url,
        json={**body, "question": f"{QUESTION} Hubungi 0812-3456-7890.", "consent": consent},
        headers=auth("complaint_officer"),
    )
    assert with_phone.status_code == 422
    [error] = with_phone.json()["errors"]
    assert error["field"] == "question" and "nomor telepon" in error["message"]
    with_name = await http.post(
        publish_url,
        json={**body, "answer": f"Ibu {NAME}, {ANSWER}", "consent": consent},
        headers={**auth("complaint_officer"), "Accept-Language": "en"},
    )
    assert with_name.status_code == 422
    assert with_name.json()["errors"][0]["field"] == "answer"
    assert "the asker's name" in with_name.json()["errors"][0]["message"]
    with_nik = await http.post(
        publish_url,
        json={**body, "answer": f"{ANSWER} NIK {NIK}.", "consent": consent},
        headers=auth("complaint_officer"),
    )
    assert with_nik.status_code == 422 and "NIK" in with_nik.json()["errors"][0]["message"]
    public = await http.get(_url(stack, "/v1/public/questions"), params={"q": "anggaran"})
    assert public.status_code == 200 and public.json()["total"] == 0  # nothing yet

    published = await http.post(
        publish_url, json={**body, "consent": consent}, headers=auth("complaint_officer")
    )
    assert published.status_code == 200, published.text
    assert published.json()["withdrawn_at"] is None

    found = await http.get(
        _url(stack, "/v1/public/questions"),
        params={"q": "anggaran MPP", "kind": "permintaan_informasi"},
    )
    assert found.status_code == 200, found.text
    [item] = found.json()["items"]
    assert item["question"] == QUESTION and item["answer"] == ANSWER
    page = await http.get(_url(stack, "/tanya-jawab"), params={"q": "anggaran"})
    assert page.status_code == 200 and QUESTION in page.text and "<script" not in page.text
    english = await http.get(_url(stack, "/tanya-jawab"), params={"q": "anggaran", "lang": "en"})
    assert "Questions and answers" in english.text and QUESTION in english.text
    for shown in (found.text, page.text, english.text):
        for personal in (NAME, "Sekar", PHONE, "+6281234567890", EMAIL, NIK, code, cid):
            assert personal not in shown
    missed = await http.get(_url(stack, "/v1/public/questions"), params={"q": "sapi perah"})
    assert missed.json()["total"] == 0
    other = await http.get(_url(stack, "/v1/public/questions"), params={"kind": "pengaduan"})
    assert other.status_code == 422

    withdrawn = await http.delete(publish_url, headers=auth("supervisor"))
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    gone = await http.get(_url(stack, "/v1/public/questions"), params={"q": "anggaran"})
    assert gone.json()["total"] == 0
    again = await http.delete(publish_url, headers=auth("supervisor"))
    assert again.status_code == 404
