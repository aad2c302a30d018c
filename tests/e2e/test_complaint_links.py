"""A complaint linked to its request on the running stack: the request's SLA
is breached after the complaint was filed, and the officer's answer on the
complaint shows when, with the request's progress and due date."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_production import _verified_job
from tests.support.auth import auth
from tests.support.clock import ServiceClock
from tests.support.identities import nik
from tests.support.polling import eventually


async def test_the_officer_sees_the_linked_request_breach(
    stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock
) -> None:
    complaints = stack.services["complaints"].url
    app, job = await _verified_job(stack, http, nik())
    filed = await http.post(
        f"{complaints}/v1/complaints",
        json={
            "description": "KTP-el saya belum juga jadi",
            "category": "keterlambatan",
            "tracking_code": app["tracking_code"],
        },
    )
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]

    # The whole stack's clock moves past the job's promise; documents'
    # scheduler breaches the SLA and complaints hears of it.
    service_clock.travel_to(datetime.fromisoformat(job["due_at"]) + timedelta(seconds=1))

    own = await asyncpg.connect(stack.services["complaints"].env["DATABASE_URL"])
    try:

        async def breached() -> asyncpg.Record | None:
            row = await own.fetchrow(
                "SELECT sla_breached_at FROM known_requests WHERE tracking_code = $1",
                app["tracking_code"],
            )
            return row if row is not None and row["sla_breached_at"] is not None else None

        await eventually(breached, timeout=30)
    finally:
        await own.close()

    answer = await http.post(
        f"{complaints}/v1/complaints/{cid}/verification",
        json={"decision": "verified"},
        headers=auth("complaint_officer"),
    )
    assert answer.status_code == 200, answer.text
    state = answer.json()
    assert state["tracking_code"] == app["tracking_code"]
    assert state["sla_breached_at"] is not None
    # The due date is the job's promise, or the breached clock's when the job's own
    # event reached complaints before the request was known (topics are not ordered).
    assert state["linked_request_due_at"] is not None
    assert state["linked_request_progress"] in {"verified", "queued"}
    assert state["picked_up_at"] is None
    # The officer's plain read of the complaint shows the same link.
    read = await http.get(f"{complaints}/v1/complaints/{cid}", headers=auth("complaint_officer"))
    assert read.status_code == 200, read.text
    assert read.json()["sla_breached_at"] == state["sla_breached_at"]
    assert read.json()["linked_request_due_at"] is not None


async def test_the_ombudsman_report_is_for_supervisors(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    complaints = stack.services["complaints"].url
    filed = await http.post(
        f"{complaints}/v1/complaints",
        json={"description": "Antrian terlalu lama sekali", "category": "pelayanan"},
    )
    assert filed.status_code == 201, filed.text
    url = f"{complaints}/v1/reports/complaints"
    assert (await http.get(url, headers=auth("complaint_officer"))).status_code == 403
    bad = await http.get(url, params={"group_by": "desa"}, headers=auth("supervisor"))
    assert bad.status_code == 422
    r = await http.get(url, params={"group_by": "category"}, headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["group_by"] == "category" and "from" in report
    [row] = [
        row for row in report["rows"] if row["key"] == "pelayanan" and row["kind"] == "pengaduan"
    ]
    assert row["complaints"] >= 1
