"""The pickup window on the running stack: reminders while the document waits,
then `document.uncollected` when the window ends, each told to the citizen
once, and shown by intake's tracking."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_production import _move, _verified_job
from tests.support.auth import auth
from tests.support.clock import ServiceClock
from tests.support.identities import nik
from tests.support.polling import eventually

POINT = "KEC-PARE"
REMINDER = "mpp.document.pickup_reminder.v1"
UNCOLLECTED = "mpp.document.uncollected.v1"


async def test_reminders_then_uncollected_reach_the_citizen_once_each(
    stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock
) -> None:
    intake = stack.services["intake"].url
    app, job = await _verified_job(stack, http, nik())
    for change in (
        {"to": "in_production"},
        {"to": "produced"},
        {"to": "ready_for_pickup", "pickup_point": POINT},
    ):
        moved = await _move(http, stack, job["id"], "production", **change)
        assert moved.status_code == 200, moved.text
    job_id = uuid.UUID(job["id"])

    conn = await asyncpg.connect(stack.services["documents"].env["DATABASE_URL"])
    try:
        # The window opened with the step: day 3, day 7, the end at day 14.
        timers = await conn.fetch(
            "SELECT kind, seq, ready_at, fire_at, window_ends_at FROM pickup_timers "
            "WHERE job_id = $1 ORDER BY fire_at",
            job_id,
        )
        assert [(t["kind"], t["seq"]) for t in timers] == [
            ("reminder", 1),
            ("reminder", 2),
            ("uncollected", 0),
        ]
        ready_at = timers[0]["ready_at"]
        assert [(t["fire_at"] - ready_at).days for t in timers] == [3, 7, 14]

        # The clock of the whole stack moves to each moment in turn (moved
        # all at once, only the window's end would be sent); the running
        # scheduler notices each by itself.
        for timer in timers:
            kind, seq = timer["kind"], timer["seq"]
            service_clock.travel_to(timer["fire_at"] + timedelta(seconds=1))

            async def fired(kind: str = kind, seq: int = seq) -> asyncpg.Record | None:
                row = await conn.fetchrow(
                    "SELECT fired_at, outcome FROM pickup_timers "
                    "WHERE job_id = $1 AND kind = $2 AND seq = $3",
                    job_id,
                    kind,
                    seq,
                )
                return row if row["fired_at"] is not None else None

            assert (await eventually(fired, timeout=30))["outcome"] == "sent"

        # The job waits on, marked uncollected; one event per moment.
        row = await conn.fetchrow("SELECT state, uncollected_at FROM jobs WHERE id = $1", job_id)
        assert row["state"] == "ready_for_pickup" and row["uncollected_at"] is not None
        events = await conn.fetch(
            "SELECT event_type, count(*) AS n FROM outbox WHERE key = $1 "
            "AND event_type IN ($2, $3) GROUP BY event_type",
            app["id"],
            REMINDER,
            UNCOLLECTED,
        )
        assert {r["event_type"]: r["n"] for r in events} == {REMINDER: 2, UNCOLLECTED: 1}
    finally:
        await conn.close()

    async def told() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"application_id": app["id"]},
            headers=auth("supervisor"),
        )
        found = [m for m in r.json()["items"] if m["source_event_type"] in (REMINDER, UNCOLLECTED)]
        return found if any(m["source_event_type"] == UNCOLLECTED for m in found) else None

    messages = await eventually(told)
    reminders = [m for m in messages if m["source_event_type"] == REMINDER]
    [uncollected] = [m for m in messages if m["source_event_type"] == UNCOLLECTED]
    assert len(reminders) == 2
    for message in [*reminders, uncollected]:
        text = message["body"]
        assert app["tracking_code"] in text and POINT in text
        assert "KTP-el asli" in text and "surat kuasa" in text
    assert all(m["body"].startswith("Pengingat:") for m in reminders)
    assert "Disdukcapil" in uncollected["body"]

    async def shows_uncollected() -> dict[str, Any] | None:
        r = (await http.get(f"{intake}/v1/track/{app['tracking_code']}")).json()
        return r if r["status"] == "uncollected" else None

    tracking = await eventually(shows_uncollected)
    steps = [s["step"] for s in tracking["timeline"]]
    assert steps.count("uncollected") == 1 and steps.index("ready_for_pickup") < steps.index(
        "uncollected"
    )
    assert "Disdukcapil" in tracking["next_step"]
    assert "KTP-el asli pemohon" in tracking["what_to_bring"]
