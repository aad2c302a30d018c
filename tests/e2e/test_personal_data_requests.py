"""A resident's requests about their data on the running stack, as a
supervisor meets them at intake: the export gathers every service's records
of that resident (and nothing of another), a correction of the phone changes
it in intake, complaints and notify so the next message goes to the new
number, a service that is down gives a partial answer naming it, and other
officers are refused. The NIK travels in the body only; the personal-data
scan at the end of the session (test_personal_data_scan.py) reads the logs
and spans these requests left."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_online_application import signed_in, upload
from tests.e2e.test_production import _move, _verified_job
from tests.integration.test_online_application import jpeg_photo
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import Phone, email, nik, phone
from tests.support.polling import eventually
from tests.support.providers import Providers

REQUESTS = "/v1/personal-data/requests"
REASON = "Permintaan warga di loket pengaduan"


@dataclass
class Resident:
    nik: str
    phone: Phone
    email: str
    application: dict[str, Any]
    job: dict[str, Any]
    complaint: dict[str, Any]


async def _resident(stack: Stack, http: httpx.AsyncClient, providers: Providers) -> Resident:
    """A verified application (its production job at documents), a complaint
    naming its tracking code from the same phone, and the messages notify
    sent that phone about both."""
    resident, mobile, mail = nik(), phone("0821"), email("warga.pdp")
    app, job = await _verified_job(
        stack, http, resident, phone=mobile.typed, email=mail, preferred_channel="sms"
    )
    complaint = expect(
        await http.post(
            f"{stack.services['complaints'].url}/v1/complaints",
            json={
                "description": "Dokumen saya belum selesai juga",
                "tracking_code": app["tracking_code"],
                "reporter_name": "Warga Pelapor",
                "phone": mobile.typed,
            },
        ),
        201,
    )

    def told_of_both() -> bool:
        texts = [m.body for m in providers.to(mobile.e164)]
        # submitted, verified; filed
        return sum(app["tracking_code"] in t for t in texts) >= 2 and any(
            complaint["complaint_code"] in t for t in texts
        )

    await eventually(told_of_both, timeout=60, what="messages about the application and complaint")
    return Resident(resident, mobile, mail, app, job, complaint)


async def _ask(
    http: httpx.AsyncClient, stack: Stack, role: str = "supervisor", **body: Any
) -> httpx.Response:
    return await http.post(
        f"{stack.services['intake'].url}{REQUESTS}",
        json={"reason": REASON, **body},
        headers=auth(role),
    )


def _by_service(answer: dict[str, Any], part: str) -> dict[str, Any]:
    return {p["service"]: p for p in answer[part]}


async def test_export_gathers_every_service_and_a_service_down_is_named(
    stack: Stack, http: httpx.AsyncClient, providers: Providers
) -> None:
    someone = await _resident(stack, http, providers)
    other = await _resident(stack, http, providers)
    # The same resident signed in online and uploaded a paper to a draft.
    intake_url = stack.services["intake"].url
    token, _code = await signed_in(intake_url, providers, someone.nik, someone.phone.typed)
    citizen = {"Authorization": f"Bearer {token}"}
    draft = expect(
        await http.post(
            f"{intake_url}/v1/citizen/drafts",
            json={"service_code": "pindah_datang"},
            headers=citizen,
        ),
        201,
    )
    expect(
        await http.post(
            f"{intake_url}/v1/citizen/drafts/{draft['id']}/files",
            headers=citizen,
            **upload("ktp_el_pemohon", "ktp.jpg", jpeg_photo(), "image/jpeg"),
        ),
        201,
    )

    # Only supervisors; the NIK is checked like every NIK.
    assert (await _ask(http, stack, "verifier", kind="export", nik=someone.nik)).status_code == 403
    assert (await _ask(http, stack, "frontdesk", kind="export", nik=someone.nik)).status_code == 403
    refused = await _ask(http, stack, kind="export", nik="1234")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "nik"
    no_contact = await _ask(http, stack, kind="correction", nik=someone.nik)
    assert no_contact.status_code == 422
    assert no_contact.json()["errors"][0]["field"] == "new_email"

    answered = await _ask(http, stack, kind="export", nik=someone.nik)
    answer = expect(answered)
    assert answered.headers["cache-control"] == "no-store"
    assert answer["complete"] is True
    assert {o["service"]: o["status"] for o in answer["outcomes"]} == {
        s: "done" for s in ("intake", "documents", "complaints", "notify")
    }
    exports = _by_service(answer, "exports")

    intake = exports["intake"]["records"]
    [application] = [r for r in intake if r["kind"] == "application"]
    assert application["data"]["tracking_code"] == someone.application["tracking_code"]
    assert application["data"]["nik"] == someone.nik  # in clear: it is the resident's own
    assert application["data"]["phone"] == someone.phone.e164
    assert application["data"]["email"] == someone.email
    assert "nik_index" not in application["data"] and "nik_enc" not in application["data"]
    assert any(r["kind"] == "application_step" for r in intake)
    # The online side: the sign-in, the session, the draft and its paper's
    # description (never the paper itself).
    kinds = {r["kind"] for r in intake}
    assert {"signin_code", "citizen_session", "online_draft", "uploaded_paper"} <= kinds
    [uploaded] = [r for r in intake if r["kind"] == "uploaded_paper"]
    assert uploaded["data"]["draft_id"] == draft["id"]
    assert "data" not in uploaded["data"] and "storage_key" in uploaded["data"]
    assert all(
        r["data"]["phone"] == someone.phone.e164
        for r in intake
        if r["kind"] in ("signin_code", "citizen_session")
    )

    documents = exports["documents"]["records"]
    jobs = [r for r in documents if r["kind"] == "document_job"]
    assert [j["id"] for j in jobs] == [someone.job["id"]]
    assert "holder_nik_check" not in jobs[0]["data"]

    [complaint] = [r for r in exports["complaints"]["records"] if r["kind"] == "complaint"]
    assert complaint["data"]["complaint_code"] == someone.complaint["complaint_code"]
    assert complaint["data"]["reporter"]["phone"] == someone.phone.e164

    messages = [r for r in exports["notify"]["records"] if r["kind"] == "message"]
    assert messages and all(m["data"]["recipient"] == someone.phone.e164 for m in messages)
    assert {m["data"]["complaint_id"] for m in messages} >= {someone.complaint["id"]}
    contacts = [r for r in exports["notify"]["records"] if r["kind"].endswith("_contact")]
    assert {c["id"] for c in contacts} >= {someone.application["id"], someone.complaint["id"]}

    # Nothing of the other resident.
    text = answered.text
    for value in (
        other.nik,
        other.phone.e164,
        other.email,
        other.application["tracking_code"],
        other.complaint["complaint_code"],
    ):
        assert value not in text

    # A service that is down: the others answer, it is named.
    complaints = stack.services["complaints"]
    await asyncio.to_thread(complaints.stop)
    try:
        partial = expect(await _ask(http, stack, kind="export", nik=someone.nik))
    finally:
        await asyncio.to_thread(complaints.start)
        await asyncio.to_thread(complaints.wait_ready)
        # Left consuming, as the tests after this one expect it.
        await asyncio.to_thread(complaints.wait_consuming)
    assert partial["complete"] is False
    outcomes = {o["service"]: o for o in partial["outcomes"]}
    assert outcomes["complaints"]["status"] == "unavailable"
    assert "coba lagi sebentar" in outcomes["complaints"]["message"]
    assert {s: outcomes[s]["status"] for s in ("intake", "documents", "notify")} == {
        "intake": "done",
        "documents": "done",
        "notify": "done",
    }
    assert set(_by_service(partial, "exports")) == {"intake", "documents", "notify"}

    # The supervisor's list of requests: who, when, why, what each did; no one's data.
    listed = await http.get(f"{stack.services['intake'].url}{REQUESTS}", headers=auth("supervisor"))
    items = expect(listed)["items"]
    mine = {i["id"]: i for i in items}
    assert mine[answer["id"]]["complete"] is True
    assert mine[partial["id"]]["outcome"]["complaints"]["status"] == "unavailable"
    for value in (someone.nik, someone.phone.e164, someone.email, someone.application["id"]):
        assert value not in listed.text
    assert (
        await http.get(f"{stack.services['intake'].url}{REQUESTS}", headers=auth("verifier"))
    ).status_code == 403

    # Each service that acted audited the request under the same officer.
    for service in ("intake", "documents", "complaints", "notify"):
        trail = expect(
            await http.get(
                f"{stack.services[service].url}/v1/audit",
                params={"target_id": answer["id"]},
                headers=auth("supervisor"),
            )
        )
        assert trail["items"], service
        assert someone.nik not in json.dumps(trail)


async def test_a_corrected_phone_changes_everywhere_and_the_next_message_goes_there(
    stack: Stack, http: httpx.AsyncClient, providers: Providers
) -> None:
    someone = await _resident(stack, http, providers)
    new_phone = phone("0822")
    told_before = len(providers.to(someone.phone.e164))

    corrected = expect(
        await _ask(http, stack, kind="correction", nik=someone.nik, new_phone=new_phone.typed)
    )
    assert corrected["complete"] is True
    counts = {p["service"]: p["corrected"] for p in corrected["corrections"]}
    assert counts["intake"]["application"] == 1
    assert counts["complaints"]["complaint"] == 1
    assert counts["notify"]["recipient"] >= 2  # the application's and the complaint's contact
    assert counts["documents"] == {}

    # The export now finds the new number in intake and complaints.
    exports = _by_service(
        expect(await _ask(http, stack, kind="export", nik=someone.nik)), "exports"
    )
    [application] = [r for r in exports["intake"]["records"] if r["kind"] == "application"]
    assert application["data"]["phone"] == new_phone.e164
    [complaint] = [r for r in exports["complaints"]["records"] if r["kind"] == "complaint"]
    assert complaint["data"]["reporter"]["phone"] == new_phone.e164

    # The next message about the application goes to the new number.
    for change in (
        {"to": "in_production"},
        {"to": "produced"},
        {
            "to": "ready_for_pickup",
            "pickup_point": someone.application.get("pickup_point") or "MPP",
        },
    ):
        expect(await _move(http, stack, someone.job["id"], "production", **change))
    await eventually(
        lambda: [
            m
            for m in providers.to(new_phone.e164)
            if someone.application["tracking_code"] in m.body
        ],
        timeout=60,
        what="the ready-for-pickup message at the new number",
    )
    assert len(providers.to(someone.phone.e164)) == told_before

    # An erasure now: each service says what it erased and what it keeps, and
    # until when (the application is still open: intake keeps it).
    erased = expect(await _ask(http, stack, kind="erasure", nik=someone.nik))
    assert erased["complete"] is True
    parts = _by_service(erased, "erasures")
    assert set(parts) == {"intake", "documents", "complaints", "notify"}
    assert any(k["id"] == someone.application["id"] for k in parts["intake"]["kept"])
    assert someone.nik not in json.dumps(erased)
