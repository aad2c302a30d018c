"""A counter day on the running stack: complete-on-first-visit applications,
corrections, duplicates, the versioned catalog and the officers' views."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from tests.support.auth import auth
from tests.support.http import expect
from tests.support.identities import email, nik, phone
from tests.support.polling import eventually


def body(service: str, documents: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "service_code": service,
        "nik": extra.pop("nik", None) or nik(),
        "full_name": "Siti Rahayu",
        "phone": extra.pop("phone", None) or phone("0857").typed,
        "channel": "mpp_desk",
        "documents": documents,
        **extra,
    }


async def submit_verified(
    http: httpx.AsyncClient, intake: str, resident: str, **extra: Any
) -> dict[str, Any]:
    """A KTP-el application taken at the counter at `intake` and verified."""
    app: dict[str, Any] = expect(
        await http.post(
            f"{intake}/v1/applications",
            json=body("ktp_el", ["kartu_keluarga", "bukti_usia_17"], nik=resident, **extra),
            headers=auth("frontdesk"),
        ),
        201,
    )
    expect(
        await http.post(
            f"{intake}/v1/applications/{app['id']}/verification",
            json={"decision": "verified"},
            headers=auth("verifier"),
        )
    )
    return app


async def _messages(
    http: httpx.AsyncClient, stack: Stack, app_id: str, count: int
) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"application_id": app_id},
            headers=auth("supervisor"),
        )
        items = r.json()["items"]
        return items if len(items) >= count else None

    result: list[dict[str, Any]] = await eventually(enough)
    return result


async def test_incomplete_application_is_told_what_is_missing_then_completed_and_verified(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    # Akta kelahiran: the birth notification is handed in, the parents' marriage proof is not.
    created = await http.post(
        f"{intake}/v1/applications",
        json=body(
            "akta_kelahiran", ["surat_keterangan_lahir", "kartu_keluarga", "ktp_el_orang_tua"]
        ),
        headers=auth("frontdesk"),
    )
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["status"] == "incomplete"
    assert app["expected_ready_at"] is None
    assert app["fee_idr"] == 0
    missing = app["missing_requirements"]
    assert [m["code"] for m in missing] == ["buku_nikah_orang_tua"]
    assert " atau " in missing[0]["name"]  # the alternative (SPTJM) is named too
    assert missing[0]["name"] in app["next_step"]

    [told] = await _messages(http, stack, app["id"], 1)
    assert told["source_event_type"] == "mpp.application.incomplete.v1"
    assert "belum lengkap" in told["body"] and "SPTJM" in told["body"]

    # The citizen brings the SPTJM instead of the marriage book: complete now.
    completed = await http.post(
        f"{intake}/v1/applications/{app['id']}/documents",
        json={"documents": ["sptjm_pasangan"]},
        headers=auth("frontdesk"),
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "submitted"
    assert completed.json()["missing_requirements"] == []
    assert completed.json()["expected_ready_at"] is not None

    verified = await http.post(
        f"{intake}/v1/applications/{app['id']}/verification",
        json={
            "decision": "verified",
            "checks": [{"requirement": "surat_keterangan_lahir", "result": "ok"}],
        },
        headers=auth("verifier"),
    )
    assert verified.status_code == 200, verified.text

    async def job() -> list[Any] | None:
        r = await http.get(
            f"{stack.services['documents'].url}/v1/jobs",
            params={"application_id": app["id"]},
            headers=auth("production"),
        )
        return r.json()["items"] or None

    await eventually(job)
    types = [m["source_event_type"] for m in await _messages(http, stack, app["id"], 3)]
    assert types[:3] == [
        "mpp.application.incomplete.v1",
        "mpp.application.completed.v1",
        "mpp.application.verified.v1",
    ]


async def test_returned_for_correction_then_resubmitted_and_verified(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    created = await http.post(
        f"{intake}/v1/applications",
        json=body("ktp_el", ["kartu_keluarga", "bukti_usia_17"]),
        headers=auth("frontdesk"),
    )
    app = created.json()
    assert app["status"] == "submitted" and app["expected_ready_at"]

    returned = await http.post(
        f"{intake}/v1/applications/{app['id']}/verification",
        json={
            "decision": "returned",
            "checks": [
                {
                    "requirement": "kartu_keluarga",
                    "result": "invalid",
                    "note": "KK lama, belum diperbarui",
                },
                {"requirement": "bukti_usia_17", "result": "ok"},
            ],
        },
        headers=auth("verifier"),
    )
    assert returned.status_code == 200, returned.text
    answer = returned.json()
    assert answer["status"] == "returned"
    assert [(i["code"], i["note"]) for i in answer["returned_items"]] == [
        ("kartu_keluarga", "KK lama, belum diperbarui")
    ]
    # Verifying straight away from "returned" is not a legal step.
    early = await http.post(
        f"{intake}/v1/applications/{app['id']}/verification",
        json={"decision": "verified"},
        headers=auth("verifier"),
    )
    assert early.status_code == 409 and early.json()["current_state"] == "returned"

    messages = await _messages(http, stack, app["id"], 2)
    told = next(m for m in messages if m["source_event_type"] == "mpp.application.returned.v1")
    assert "KK lama, belum diperbarui" in told["body"] and "perlu diperbaiki" in told["body"]

    corrected = await http.post(
        f"{intake}/v1/applications/{app['id']}/documents",
        json={"documents": ["kartu_keluarga"]},
        headers=auth("frontdesk"),
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "submitted"
    assert corrected.json()["progress"] == "resubmitted"
    verified = await http.post(
        f"{intake}/v1/applications/{app['id']}/verification",
        json={
            "decision": "verified",
            "checks": [{"requirement": "kartu_keluarga", "result": "ok"}],
        },
        headers=auth("verifier"),
    )
    assert verified.status_code == 200 and verified.json()["status"] == "verified"

    timeline = (await http.get(f"{intake}/v1/track/{app['tracking_code']}")).json()["timeline"]
    assert [s["step"] for s in timeline][:4] == ["submitted", "returned", "resubmitted", "verified"]


async def test_second_active_application_for_the_same_nik_and_service_is_refused(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    resident = nik()
    first = await http.post(
        f"{intake}/v1/applications", json=body("kk", [], nik=resident), headers=auth("frontdesk")
    )
    assert first.status_code == 201
    second = await http.post(
        f"{intake}/v1/applications", json=body("kk", [], nik=resident), headers=auth("frontdesk")
    )
    assert second.status_code == 409
    assert second.json()["code"] == "duplicate_application"
    assert second.json()["first_tracking_code"] == first.json()["tracking_code"]
    assert first.json()["tracking_code"] in second.json()["detail"]
    # Another service for the same resident is fine.
    other = await http.post(
        f"{intake}/v1/applications", json=body("kia", [], nik=resident), headers=auth("frontdesk")
    )
    assert other.status_code == 201
    # Once rejected, the resident may apply again.
    rejected = await http.post(
        f"{intake}/v1/applications/{first.json()['id']}/verification",
        json={"decision": "rejected", "reason_codes": ["tidak_memenuhi_syarat"]},
        headers=auth("verifier"),
    )
    assert rejected.status_code == 200, rejected.text
    again = await http.post(
        f"{intake}/v1/applications", json=body("kk", [], nik=resident), headers=auth("frontdesk")
    )
    assert again.status_code == 201


async def test_catalog_versions_are_kept_by_applications(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    catalog = (await http.get(f"{intake}/v1/services")).json()
    codes = {s["code"] for s in catalog["items"]}
    assert {
        "ktp_el",
        "kk",
        "akta_kelahiran",
        "akta_kematian",
        "pindah_keluar",
        "pindah_datang",
    } <= codes
    assert catalog["count"] >= 8
    assert all(s["fee_idr"] == 0 and s["fee_text"] == "Gratis (Rp 0)" for s in catalog["items"])

    current = (await http.get(f"{intake}/v1/services/pindah_datang")).json()
    english = (
        await http.get(f"{intake}/v1/services/pindah_datang", headers={"Accept-Language": "en"})
    ).json()
    start = current["version"]  # other tests share this stack's catalog, in any order
    before = await http.post(
        f"{intake}/v1/applications", json=body("pindah_datang", []), headers=auth("frontdesk")
    )
    assert before.json()["catalog_version"] == start

    shape = {
        "name_id": current["name_id"],
        "name_en": current["name_en"],
        "opd": current["opd"],
        "fee_idr": 0,
        "pickup_points": current["pickup_points"],
        "channels": current["channels"],
    }
    shortened = shape | {
        "sla_amount": 2,
        "sla_unit": "working_days",
        "requirements": [
            {
                "code": "skpwni",
                "name_id": "SKPWNI dari daerah asal",
                "name_en": "Moving certificate",
            }
        ],
    }
    refused = await http.put(
        f"{intake}/v1/services/pindah_datang", json=shortened, headers=auth("frontdesk")
    )
    assert refused.status_code == 403
    published = await http.put(
        f"{intake}/v1/services/pindah_datang", json=shortened, headers=auth("admin")
    )
    assert published.status_code == 200, published.text
    try:
        assert published.json()["version"] == start + 1

        after = await http.post(
            f"{intake}/v1/applications",
            json=body("pindah_datang", ["skpwni"]),
            headers=auth("frontdesk"),
        )
        assert after.json()["catalog_version"] == start + 1
        assert after.json()["status"] == "submitted"
        # The earlier application still answers with what was asked of it then.
        kept = await http.get(
            f"{intake}/v1/applications/{before.json()['id']}", headers=auth("verifier")
        )
        assert kept.json()["catalog_version"] == start
        assert {m["code"] for m in kept.json()["missing_requirements"]} == {
            m["code"] for m in before.json()["missing_requirements"]
        }
        old = (
            await http.get(f"{intake}/v1/services/pindah_datang", params={"version": start})
        ).json()
        assert old["sla_amount"] == current["sla_amount"]
    finally:
        # Publish the original requirements again as the newest version, so
        # the tests that apply for this service later find what they expect.
        restored = await http.put(
            f"{intake}/v1/services/pindah_datang",
            json=shape
            | {
                "sla_amount": current["sla_amount"],
                "sla_unit": current["sla_unit"],
                "requirements": [
                    {
                        "code": ours["code"],
                        "name_id": ours["name"],
                        "name_en": theirs["name"],
                        "mandatory": ours["mandatory"],
                        "any_of": [
                            {"code": a["code"], "name_id": a["name"], "name_en": b["name"]}
                            for a, b in zip(
                                ours["alternatives"], theirs["alternatives"], strict=True
                            )
                        ],
                    }
                    for ours, theirs in zip(
                        current["requirements"], english["requirements"], strict=True
                    )
                ],
            },
            headers=auth("admin"),
        )
        assert restored.status_code == 200, restored.text
    newest = (await http.get(f"{intake}/v1/services/pindah_datang")).json()
    assert {k: newest[k] for k in ("requirements", "sla_amount")} == {
        k: current[k] for k in ("requirements", "sla_amount")
    }


async def test_nearest_pickup_point_from_the_nik_and_officer_views(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    points = (await http.get(f"{intake}/v1/pickup-points", params={"region": "350617"})).json()
    assert points["items"][0]["code"] == "KEC-PARE" and points["items"][0]["suggested"]
    assert points["count"] == 7

    resident = nik("350617")  # Kecamatan Pare
    created = await http.post(
        f"{intake}/v1/applications",
        json=body("akta_kematian", [], nik=resident, channel="kecamatan_desk"),
        headers=auth("frontdesk", subject="desk-pare-1", counter="KEC-PARE-1"),
    )
    assert created.status_code == 201, created.text
    assert created.json()["pickup_point"] == "KEC-PARE"

    listed = await http.get(
        f"{intake}/v1/applications",
        params={"service_code": "akta_kematian", "pickup_point": "KEC-PARE", "page_size": 1},
        headers=auth("verifier"),
    )
    assert listed.status_code == 200
    page = listed.json()
    assert page["page_size"] == 1 and len(page["items"]) == 1 and page["total"] >= 1
    found = await http.post(
        f"{intake}/v1/applications/search", json={"nik": resident}, headers=auth("frontdesk")
    )
    assert [a["id"] for a in found.json()["items"]] == [created.json()["id"]]
    assert resident not in found.text

    trail = await http.get(
        f"{intake}/v1/audit", params={"target_id": created.json()["id"]}, headers=auth("supervisor")
    )
    assert trail.status_code == 200
    [entry] = trail.json()["items"]
    assert (entry["actor"], entry["counter"], entry["action"]) == (
        "desk-pare-1",
        "KEC-PARE-1",
        "application.submit",
    )
    assert (await http.get(f"{intake}/v1/audit", headers=auth("frontdesk"))).status_code == 403


async def test_public_tracking_shows_progress_and_no_personal_data(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    resident, mobile, mailbox = nik(), phone("0857"), email("siti.rahayu")
    created = await http.post(
        f"{intake}/v1/applications",
        json=body(
            "akta_kelahiran", ["kartu_keluarga"], nik=resident, phone=mobile.typed, email=mailbox
        ),
        headers=auth("frontdesk"),
    )
    code = expect(created, 201)["tracking_code"]
    tracked = await http.get(f"{intake}/v1/track/{code.lower()}")
    assert tracked.status_code == 200
    answer = tracked.json()
    assert answer["status"] == "incomplete"
    assert answer["what_to_bring"] and all(isinstance(x, str) for x in answer["what_to_bring"])
    text = json.dumps(answer)
    for secret in (resident, resident[:6] + "*", "Siti", "Rahayu", mobile.typed, mobile.e164):
        assert secret not in text
    assert mailbox not in text and mobile.international not in text
    # A mistyped code is caught by its check character before any lookup.
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    refused = await http.get(f"{intake}/v1/track/{typo}", headers={"Accept-Language": "en"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "tracking_code"
    assert "typed" in refused.json()["errors"][0]["message"]


async def test_refusals_for_catalog_rules_name_the_field(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"service_code": "paspor"}, "service_code", "unknown_service"),
        ({"documents": ["ijazah"]}, "documents", "unknown_document"),
        ({"channel": "online"}, "channel", "channel_not_offered"),
        (
            {"pickup_point": "KEC-PARE", "service_code": "akta_perkawinan"},
            "pickup_point",
            "pickup_point_not_offered",
        ),
    ]
    for change, field, kind in cases:
        payload = {**body("ktp_el", []), **change}
        if change.get("service_code") == "akta_perkawinan":
            payload["documents"] = []
        r = await http.post(
            f"{intake}/v1/applications",
            json=payload,
            headers={
                **auth("frontdesk"),
                "Accept-Language": "en",
                "Idempotency-Key": str(uuid.uuid4()),
            },
        )
        assert r.status_code == 422, (change, r.text)
        error = r.json()["errors"][0]
        assert (error["field"], error["type"]) == (field, kind)
        assert error["message"]
