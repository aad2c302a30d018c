"""The complaint lifecycle on the running stack: filed → verified → assigned
→ in_progress → responded → reopened → responded → closed with a rating, the
reporter told at each citizen-facing step; and a missed deadline escalated to
the supervisor exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from mpp_devstack.stack import Stack
from tests.support.auth import auth
from tests.support.clock import ServiceClock
from tests.support.polling import eventually

EMAIL = "siti.aminah@example.co.id"


async def _file(http: httpx.AsyncClient, stack: Stack, **extra: Any) -> dict[str, Any]:
    r = await http.post(
        f"{stack.services['complaints'].url}/v1/complaints",
        json={"description": "Petugas meminta uang tambahan", "category": "pungli", **extra},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _step(
    http: httpx.AsyncClient,
    stack: Stack,
    complaint_id: str,
    action: str,
    body: dict[str, Any],
    *roles: str,
) -> httpx.Response:
    # The OPD system speaks for the OPD the complaint is assigned to (pungli: INSPEKTORAT).
    opd = "INSPEKTORAT" if "opd_system" in roles else None
    return await http.post(
        f"{stack.services['complaints'].url}/v1/complaints/{complaint_id}/{action}",
        json=body,
        headers=auth(*roles, opd=opd) if roles else {},
    )


async def test_a_complaint_from_filing_to_closing(stack: Stack, http: httpx.AsyncClient) -> None:
    complaints = stack.services["complaints"].url
    categories = await http.get(f"{complaints}/v1/categories")
    assert categories.status_code == 200
    assert {c["code"]: c["opd"] for c in categories.json()}["pungli"] == "INSPEKTORAT"

    filed = await _file(http, stack, email=EMAIL)
    cid, code = filed["id"], filed["complaint_code"]

    moves: list[tuple[str, dict[str, Any], tuple[str, ...], str]] = [
        ("verification", {"decision": "verified"}, ("complaint_officer",), "verified"),
        ("assignment", {}, ("complaint_officer",), "assigned"),
        ("progress", {}, ("opd_system",), "in_progress"),
        (
            "response",
            {"text": "Petugas telah diperiksa Inspektorat."},
            ("opd_system",),
            "responded",
        ),
        (
            "reopening",
            {"complaint_code": code, "reason": "Uang belum dikembalikan"},
            (),
            "reopened",
        ),
        (
            "response",
            {"text": "Uang telah dikembalikan kepada pelapor."},
            ("opd_system",),
            "responded",
        ),
    ]
    for action, body, roles, expected in moves:
        r = await _step(http, stack, cid, action, body, *roles)
        assert r.status_code == 200, (action, r.text)
        state = r.json()
        assert state["status"] == expected
        assert EMAIL not in r.text and "siti" not in r.text.lower()  # never the contact
    assert state["opd"] == "INSPEKTORAT" and state["reopen_count"] == 1
    assert state["step"] == "auto_close" and state["step_due_at"]

    # The wrong code is not the reporter; a stale version and an illegal move are 409.
    wrong = await _step(http, stack, cid, "closure", {"complaint_code": "P000000000", "rating": 5})
    assert wrong.status_code == 404
    stale = await _step(
        http, stack, cid, "closure", {"complaint_code": code, "rating": 5, "expected_version": 1}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    illegal = await _step(http, stack, cid, "progress", {}, "opd_system")
    assert illegal.status_code == 409 and illegal.json()["current_state"] == "responded"

    closed = await _step(
        http,
        stack,
        cid,
        "closure",
        {"complaint_code": code, "rating": 4, "comment": "Terima kasih"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["rating"] == 4
    assert closed.json()["step"] is None
    again = await _step(
        http, stack, cid, "reopening", {"complaint_code": code, "reason": "lagi dong"}
    )
    assert again.status_code == 409 and again.json()["current_state"] == "closed"

    # The reporter heard of filing, both responses and the closing, once each.
    async def told() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"complaint_id": cid},
            headers=auth("complaint_officer"),
        )
        items = r.json()["items"]
        return items if len(items) >= 4 else None

    log = await eventually(told)
    assert sorted(m["source_event_type"] for m in log) == sorted(
        [
            "mpp.complaint.filed.v1",
            "mpp.complaint.responded.v1",
            "mpp.complaint.responded.v1",
            "mpp.complaint.closed.v1",
        ]
    )
    assert any("Uang telah dikembalikan" in m["body"] for m in log)


async def test_a_missed_deadline_is_escalated_once(
    stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock
) -> None:
    filed = await _file(http, stack, anonymous=True)
    cid = filed["id"]
    for action, body in (("verification", {"decision": "verified"}), ("assignment", {})):
        r = await _step(http, stack, cid, action, body, "complaint_officer")
        assert r.status_code == 200, r.text

    conn = await asyncpg.connect(stack.services["complaints"].env["DATABASE_URL"])
    try:
        due_at = await conn.fetchval(
            "SELECT due_at FROM complaint_deadlines "
            "WHERE complaint_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
            uuid.UUID(cid),
        )

        async def escalations() -> list[dict[str, Any]] | None:
            rows = await conn.fetch(
                "SELECT payload FROM outbox WHERE event_type = 'mpp.complaint.escalated.v1' "
                "AND key = $1",
                cid,
            )
            return [json.loads(r["payload"])["data"] for r in rows] or None

        # The whole stack's clock moves to a moment before the follow-up
        # step's deadline (nothing yet), then past it.
        service_clock.travel_to(due_at - timedelta(minutes=1))
        await asyncio.sleep(3)  # longer than the scheduler's interval
        assert await escalations() is None
        service_clock.travel_to(due_at + timedelta(seconds=1))
        [escalated] = await eventually(escalations)
        assert escalated["step"] == "follow_up" and escalated["opd"] == "INSPEKTORAT"
        await asyncio.sleep(3)  # longer than the scheduler's interval: still once
        assert len(await escalations() or []) == 1
    finally:
        await conn.close()

    # It reaches notify: one message to the supervisor's desk, none to the reporter.
    async def supervisor_told() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"complaint_id": cid},
            headers=auth("supervisor"),
        )
        found = [
            m for m in r.json()["items"] if m["source_event_type"] == "mpp.complaint.escalated.v1"
        ]
        return found or None

    [message] = await eventually(supervisor_told)
    assert message["channel"] == "email" and message["recipient_masked"].startswith("p***@")
    assert filed["complaint_code"] in message["body"] and "Eskalasi" in message["body"]
