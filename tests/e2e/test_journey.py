"""One citizen request through all four services, as a front desk, the
officers, another OPD's system and an operator's tracing backend see it."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx

from mpp_devstack.stack import Stack
from mpp_shared.pii import mask_nik
from tests.support.auth import auth
from tests.support.identities import nik as new_nik
from tests.support.opd import OutsideReader
from tests.support.otlp import OtlpReceiver
from tests.support.polling import eventually

SPAN_KIND_SERVER = 2
SPAN_KIND_CONSUMER = 5
PHONE = "081234567890"
PHONE_E164 = "+6281234567890"
EMAIL = "budi.santoso@example.co.id"


def application_body(nik: str) -> dict[str, object]:
    return {
        "service_code": "ktp_el",
        "nik": nik,
        "full_name": "Budi Santoso",
        "phone": PHONE,
        "channel": "mpp_desk",
        "pickup_point": "MPP",
        "documents": ["kartu_keluarga", "bukti_usia_17"],
    }


async def test_one_request_from_counter_to_pickup(
    stack: Stack, http: httpx.AsyncClient, opd_reader: OutsideReader, otlp: OtlpReceiver
) -> None:
    intake = stack.services["intake"].url
    documents = stack.services["documents"].url
    complaints = stack.services["complaints"].url
    notify = stack.services["notify"].url
    nik = new_nik()

    # Front desk: submit, and a retry with the same Idempotency-Key.
    key = str(uuid.uuid4())
    headers = {**auth("frontdesk"), "Idempotency-Key": key}
    first = await http.post(
        f"{intake}/v1/applications", json=application_body(nik), headers=headers
    )
    assert first.status_code == 201, first.text
    application = first.json()
    retry = await http.post(
        f"{intake}/v1/applications", json=application_body(nik), headers=headers
    )
    assert retry.status_code == 201
    assert retry.json()["id"] == application["id"]
    assert application["nik_masked"] == mask_nik(nik)
    assert nik not in first.text and "Budi Santoso" not in first.text
    app_id, code = application["id"], application["tracking_code"]

    # Verifier: verified; a second decision is an illegal transition.
    decided = await http.post(
        f"{intake}/v1/applications/{app_id}/verification",
        json={"decision": "verified"},
        headers=auth("verifier"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "verified"
    again = await http.post(
        f"{intake}/v1/applications/{app_id}/verification",
        json={"decision": "rejected", "reason_codes": ["lainnya"], "reason": "berkas kurang"},
        headers=auth("verifier"),
    )
    assert again.status_code == 409
    assert again.json()["current_state"] == "verified"

    # Documents: the job appears from application.verified and moves to pickup.
    async def job() -> dict[str, object] | None:
        r = await http.get(
            f"{documents}/v1/jobs", params={"application_id": app_id}, headers=auth("production")
        )
        items = r.json()["items"]
        return items[0] if items else None

    found = await eventually(job)
    assert found["state"] == "queued"
    steps = [
        ({"to": "in_production"}, "production"),
        ({"to": "produced"}, "production"),
        ({"to": "ready_for_pickup", "pickup_point": "KEC-PARE"}, "production"),
        ({"to": "picked_up", "collector_nik": nik}, "pickup"),
    ]
    for body, role in steps:
        moved = await http.post(
            f"{documents}/v1/jobs/{found['id']}/transitions", json=body, headers=auth(role)
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == body["to"]
    twice = await http.post(
        f"{documents}/v1/jobs/{found['id']}/transitions",
        json={"to": "picked_up", "collector_nik": nik},
        headers=auth("pickup"),
    )
    assert twice.status_code == 409
    assert twice.json() | {"detail": ""} == {
        "code": "illegal_transition",
        "detail": "",
        "current_state": "picked_up",
        "current_version": 5,
    }
    stale = await http.post(
        f"{documents}/v1/jobs/{found['id']}/transitions",
        json={"to": "picked_up", "collector_nik": nik, "expected_version": 2},
        headers=auth("pickup"),
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"

    # A citizen files a complaint naming the tracking code (no token needed).
    complaint = await http.post(
        f"{complaints}/v1/complaints",
        json={
            "description": "Antrean di loket terlalu lama",
            "tracking_code": code,
            "email": EMAIL,
        },
    )
    assert complaint.status_code == 201, complaint.text
    assert complaint.json()["complaint_code"].startswith("P")

    # Public tracking shows every step, and nothing personal.
    async def picked_up() -> dict[str, object] | None:
        r = await http.get(f"{intake}/v1/track/{code}")
        return r.json() if r.json().get("status") == "picked_up" else None

    tracking = await eventually(picked_up)
    assert tracking["expected_ready_at"] is not None
    assert [s["step"] for s in tracking["timeline"]] == [
        "submitted",
        "verified",
        "queued",
        "in_production",
        "produced",
        "ready_for_pickup",
        "picked_up",
    ]
    assert tracking["pickup_point"] == "KEC-PARE"
    as_text = json.dumps(tracking)
    assert nik not in as_text and "Budi" not in as_text
    # Nor a part of it: the region and birth date, or any 16-digit number.
    assert nik[:12] not in as_text and not re.search(r"(?<!\d)\d{16}(?!\d)", as_text)

    # Notify: one message per citizen-facing event, on the citizen's channel.
    async def messages() -> list[dict[str, object]] | None:
        r = await http.get(
            f"{notify}/v1/notifications",
            params={"application_id": app_id},
            headers=auth("supervisor"),
        )
        items = r.json()["items"]
        return items if len(items) >= 4 else None

    log = await eventually(messages)
    assert sorted(m["source_event_type"] for m in log) == sorted(
        [
            "mpp.application.submitted.v1",
            "mpp.application.verified.v1",
            "mpp.document.ready_for_pickup.v1",
            "mpp.document.picked_up.v1",
        ]
    )
    assert {m["channel"] for m in log} == {"sms"}
    assert all(
        m["recipient_masked"].startswith("+628") and "*" in m["recipient_masked"] for m in log
    )
    ready = next(m for m in log if m["source_event_type"].endswith("ready_for_pickup.v1"))
    assert "KEC-PARE" in ready["body"] and code in ready["body"]

    async def complaint_message() -> list[dict[str, object]] | None:
        r = await http.get(
            f"{notify}/v1/notifications",
            params={"complaint_id": complaint.json()["id"]},
            headers=auth("complaint_officer"),
        )
        return r.json()["items"] or None

    [told] = await eventually(complaint_message)
    assert told["channel"] == "email" and told["recipient_masked"] == "b***@example.co.id"

    # Another OPD's system, reading the topics in its own group, saw the journey.
    def about_this_request(doc: dict[str, object]) -> bool:
        data = doc.get("data") or {}
        return isinstance(data, dict) and data.get("application_id") == app_id

    wanted = {
        "mpp.application.submitted.v1",
        "mpp.application.verified.v1",
        "mpp.document.queued.v1",
        "mpp.document.produced.v1",
        "mpp.document.ready_for_pickup.v1",
        "mpp.document.picked_up.v1",
        "mpp.complaint.filed.v1",
        "mpp.notification.recorded.v1",
    }
    seen = await eventually(
        lambda: (
            {d["type"] for d in opd_reader.events(about_this_request)} >= wanted
            and opd_reader.events(about_this_request)
        )
    )
    for doc in seen:
        assert doc["specversion"] == "1.0"
        assert doc["source"].startswith("/mpp/")
        uuid.UUID(doc["id"])
    ours = [
        m for m in opd_reader.messages if app_id.encode() in m.value or code.encode() in m.value
    ]
    assert ours and all(
        dict(m.headers)["content-type"] == b"application/cloudevents+json" for m in ours
    )
    # Privacy: no clear NIK, phone or e-mail on any shared topic.
    for message in opd_reader.messages:
        for secret in (nik, PHONE, PHONE_E164, EMAIL, "Budi Santoso"):
            assert secret.encode() not in message.value, f"{secret} leaked on {message.topic}"

    # Tracing: the front desk's HTTP call and notify's consumer share one trace.
    submitted = next(d for d in seen if d["type"] == "mpp.application.submitted.v1")
    notify_spans = await eventually(
        lambda: otlp.find(
            lambda s: (
                s.service == "mpp-notify"
                and s.kind == SPAN_KIND_CONSUMER
                and s.attributes.get("messaging.message.id") == submitted["id"]
            )
        )
    )
    intake_spans = await eventually(
        lambda: otlp.find(
            lambda s: (
                s.service == "mpp-intake"
                and s.kind == SPAN_KIND_SERVER
                and s.trace_id == notify_spans[0].trace_id
            )
        )
    )
    assert intake_spans[0].name == "POST /v1/applications"
    submitted_message = next(
        m for m in log if m["source_event_type"] == "mpp.application.submitted.v1"
    )
    assert submitted_message["trace_id"] == notify_spans[0].trace_id


async def test_concurrent_retries_with_one_idempotency_key_create_one_application(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    headers = {**auth("frontdesk"), "Idempotency-Key": str(uuid.uuid4())}
    body = application_body(new_nik())
    answers = await asyncio.gather(
        *[http.post(f"{intake}/v1/applications", json=body, headers=headers) for _ in range(5)]
    )
    assert [a.status_code for a in answers] == [201] * 5
    assert len({a.json()["id"] for a in answers}) == 1
    # The same key with another body is refused, not silently answered.
    other = await http.post(
        f"{intake}/v1/applications", json={**body, "full_name": "Siti Aminah"}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_refusals_name_the_field_and_reason_in_the_officers_language(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    bad = {**application_body("3506049902660001"), "phone": "12"}
    indonesian = await http.post(f"{intake}/v1/applications", json=bad, headers=auth("frontdesk"))
    assert indonesian.status_code == 422
    errors = {e["field"]: e for e in indonesian.json()["errors"]}
    assert errors["nik"]["type"] == "nik_invalid"
    assert "tanggal lahir" in errors["nik"]["message"]
    assert errors["phone"]["type"] == "phone_invalid"
    english = await http.post(
        f"{intake}/v1/applications",
        json=bad,
        headers={**auth("frontdesk"), "Accept-Language": "en"},
    )
    assert "birth date" in {e["field"]: e for e in english.json()["errors"]}["nik"]["message"]


async def test_officer_routes_refuse_missing_bad_and_wrong_role_tokens(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    url = f"{stack.services['intake'].url}/v1/applications"
    body = application_body(new_nik())
    assert (await http.post(url, json=body)).status_code == 401
    bad = await http.post(url, json=body, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    wrong_role = await http.post(url, json=body, headers=auth("pickup"))
    assert wrong_role.status_code == 403
    health = await http.get(f"{stack.services['notify'].url}/health/ready")
    assert health.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok"}
