"""Pickup on the running stack: the board of a pickup point, masked; handover
only to the holder's NIK or to a representative with a letter of authority;
refusals in the audit trail."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_production import _move, _verified_job
from tests.support.auth import auth
from tests.support.clock import WIB, ServiceClock
from tests.support.identities import nik
from tests.support.opd import OutsideReader
from tests.support.polling import eventually

POINT = "KEC-PARE"
WAKIL = {
    "full_name": "Ahmad Fauzi",
    "nik": "3506041203850007",
    "relationship": "suami",
    "authority_letter_ref": "SK/017/IV/2026",
}


def _niks(count: int) -> list[str]:
    found: set[str] = set()
    while len(found) < count:
        found.add(nik())
    return sorted(found)


async def _ready(
    stack: Stack, http: httpx.AsyncClient, resident: str, point: str = POINT
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A verified application whose job went through production to `point`."""
    app, job = await _verified_job(stack, http, resident)
    for change in (
        {"to": "in_production"},
        {"to": "produced"},
        {"to": "ready_for_pickup", "pickup_point": point},
    ):
        moved = await _move(http, stack, job["id"], "production", **change)
        assert moved.status_code == 200, moved.text
    return app, moved.json()


async def _board(
    http: httpx.AsyncClient, stack: Stack, code: str = POINT, role: str = "pickup", **params: Any
) -> httpx.Response:
    return await http.get(
        f"{stack.services['documents'].url}/v1/pickup-points/{code}/board",
        params=params,
        headers=auth(role),
    )


async def test_the_board_and_the_handover_at_a_pickup_point(
    stack: Stack, http: httpx.AsyncClient, opd_reader: OutsideReader, service_clock: ServiceClock
) -> None:
    documents = stack.services["documents"].url
    # The whole test at mid-morning of the next day: "today" (collected
    # today, days waiting) cannot turn over while it runs.
    tomorrow = service_clock.now().astimezone(WIB).date() + timedelta(days=1)
    service_clock.travel_to(service_clock.local(tomorrow, 9, 0))
    resident, resident2, stranger = _niks(3)
    before = (await _board(http, stack)).json()["counts"]
    app, job = await _ready(stack, http, resident)
    app2, job2 = await _ready(stack, http, resident2)

    # The board lists what is ready here, newest first, masked.
    board = await _board(http, stack, role="production")
    assert board.status_code == 200, board.text
    for secret in (resident, resident2, "Siti", "Rahayu"):
        assert secret not in board.text
    answer = board.json()
    assert answer["pickup_point"] == POINT and answer["pickup_window_days"] == 14
    counts = answer["counts"]
    assert counts["ready"] == before["ready"] + 2
    assert counts["collected_today"] == before["collected_today"]
    assert (counts["in_transit"], counts["overdue"]) == (before["in_transit"], before["overdue"])
    assert answer["total"] == counts["ready"]
    codes = [i["tracking_code"] for i in answer["items"]]
    assert codes.index(app2["tracking_code"]) < codes.index(app["tracking_code"])
    item = next(i for i in answer["items"] if i["job_id"] == job["id"])
    assert item["tracking_code"] == app["tracking_code"]
    assert (item["service_code"], item["service_name"]) == ("ktp_el", "KTP Elektronik (KTP-el)")
    assert "*" in item["holder_masked"]
    assert (item["days_waiting"], item["overdue"]) == (0, False)
    assert item["ready_at"] is not None
    one = (await _board(http, stack, page_size=1)).json()
    assert len(one["items"]) == 1 and one["total"] == counts["ready"]
    assert (await _board(http, stack, role="frontdesk")).status_code == 403
    bad = await _board(http, stack, code="kec-pare")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "code"
    empty = (await _board(http, stack, code="KEC-TANPA-DOKUMEN")).json()
    assert empty["items"] == [] and set(empty["counts"].values()) == {0}

    # Nobody named: refused as incomplete.
    nobody = await _move(http, stack, job["id"], "pickup", to="picked_up")
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0] | {"message": ""} == {
        "field": "collector_nik",
        "type": "collector_required",
        "message": "",
    }

    # A wrong NIK: refused, the job stays ready, the refusal is in the audit trail.
    wrong = await _move(http, stack, job["id"], "pickup", to="picked_up", collector_nik=stranger)
    assert wrong.status_code == 422, wrong.text
    [error] = wrong.json()["errors"]
    assert (error["field"], error["type"]) == ("collector_nik", "nik_mismatch")
    assert "NIK pengambil tidak sama dengan NIK pemilik dokumen" in error["message"]
    assert stranger not in wrong.text and resident not in wrong.text
    still = await http.get(f"{documents}/v1/jobs/{job['id']}", headers=auth("pickup"))
    assert (still.json()["state"], still.json()["version"]) == ("ready_for_pickup", job["version"])
    trail = await http.get(
        f"{documents}/v1/audit", params={"target_id": job["id"]}, headers=auth("supervisor")
    )
    assert trail.status_code == 200, trail.text
    [refusal] = [e for e in trail.json()["items"] if e["action"] == "job.handover_refused"]
    assert (refusal["actor"], refusal["counter"]) == ("officer-pickup", "MPP-01")
    assert refusal["detail"]["reason"] == "nik_mismatch"
    assert refusal["detail"]["pickup_point"] == POINT
    assert "*" in refusal["detail"]["collector_nik_masked"]
    assert stranger not in trail.text and resident not in trail.text

    # The holder's own NIK, as submitted: handed over.
    taken = await _move(http, stack, job["id"], "pickup", to="picked_up", collector_nik=resident)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "picked_up"
    assert (taken.json()["collected_by"], taken.json()["representative_masked"]) == ("holder", None)
    assert taken.json()["picked_up_at"] is not None

    # Another job goes to a representative with a letter of authority.
    by_wakil = await _move(http, stack, job2["id"], "pickup", to="picked_up", representative=WAKIL)
    assert by_wakil.status_code == 200, by_wakil.text
    handed = by_wakil.json()
    assert (handed["state"], handed["collected_by"]) == ("picked_up", "representative")
    assert "*" in handed["representative_masked"]
    assert handed["authority_letter_ref"] == WAKIL["authority_letter_ref"]
    assert WAKIL["nik"] not in by_wakil.text and "Ahmad" not in by_wakil.text
    trail2 = (
        await http.get(
            f"{documents}/v1/audit", params={"target_id": job2["id"]}, headers=auth("supervisor")
        )
    ).json()
    [entry] = [e for e in trail2["items"] if e["action"] == "job.picked_up"]
    assert entry["detail"]["handover_path"] == "representative"
    assert entry["detail"]["relationship"] == "suami" and entry["detail"]["counter"] == "MPP-01"

    # The board afterwards: both collected today, neither listed.
    after = (await _board(http, stack)).json()
    assert after["counts"]["ready"] == before["ready"]
    assert after["counts"]["collected_today"] == before["collected_today"] + 2
    listed = {i["job_id"] for i in after["items"]}
    assert job["id"] not in listed and job2["id"] not in listed

    # The picked_up events say who collected, masked; no clear NIK on any topic.
    def picked_up(application_id: str) -> list[dict[str, Any]]:
        return opd_reader.events(
            lambda d: (
                d.get("type") == "mpp.document.picked_up.v1"
                and (d.get("data") or {}).get("application_id") == application_id
            )
        )

    [holder_event] = await eventually(lambda: picked_up(app["id"]))
    assert holder_event["data"]["collected_by"] == "holder"
    assert holder_event["data"]["handed_over_by"] == "officer-pickup"
    [wakil_event] = await eventually(lambda: picked_up(app2["id"]))
    assert wakil_event["data"]["collected_by"] == "representative"
    assert wakil_event["data"]["representative_masked"] == handed["representative_masked"]
    for message in opd_reader.messages:
        for secret in (resident, resident2, stranger, WAKIL["nik"], "Ahmad Fauzi"):
            assert secret.encode() not in message.value, f"{secret} leaked on {message.topic}"


async def test_a_job_without_the_holder_check_needs_a_supervisor_or_a_representative(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    documents = stack.services["documents"].url
    resident = nik()
    _app, job = await _ready(stack, http, resident)
    # As if made before the check existed.
    conn = await asyncpg.connect(stack.services["documents"].env["DATABASE_URL"])
    try:
        cleared = await conn.execute(
            "UPDATE jobs SET holder_nik_check = NULL WHERE id = $1", uuid.UUID(job["id"])
        )
        assert cleared == "UPDATE 1"
    finally:
        await conn.close()

    refused = await _move(http, stack, job["id"], "pickup", to="picked_up", collector_nik=resident)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["type"] == "holder_check_unavailable"
    trail = await http.get(
        f"{documents}/v1/audit",
        params={"target_id": job["id"], "action": "job.handover_refused"},
        headers=auth("supervisor"),
    )
    assert trail.json()["total"] == 1

    overridden = await http.post(
        f"{documents}/v1/jobs/{job['id']}/transitions",
        json={"to": "picked_up", "collector_nik": resident},
        headers=auth("pickup", "supervisor", subject="kepala-loket"),
    )
    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["collected_by"] == "holder"
    trail = await http.get(
        f"{documents}/v1/audit",
        params={"target_id": job["id"], "action": "job.picked_up"},
        headers=auth("supervisor"),
    )
    [entry] = trail.json()["items"]
    assert entry["actor"] == "kepala-loket"
    assert entry["detail"]["handover_path"] == "supervisor_override"
