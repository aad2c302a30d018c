"""Production on the running stack: the promise travels to the job, a hold is
shown with its reason and resumed, a cancellation ends the application."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_counter_day import body, submit_verified
from tests.support.auth import auth
from tests.support.clock import WIB, ServiceClock, add_working_days, working_eve_of_holiday
from tests.support.http import expect
from tests.support.identities import nik
from tests.support.polling import eventually


async def _verified_job(
    stack: Stack, http: httpx.AsyncClient, resident: str, **extra: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    app = await submit_verified(http, stack.services["intake"].url, resident, **extra)

    async def job() -> dict[str, Any] | None:
        r = await http.get(
            f"{stack.services['documents'].url}/v1/jobs",
            params={"application_id": app["id"]},
            headers=auth("production"),
        )
        items = expect(r)["items"]
        return items[0] if items else None

    return app, await eventually(job)


async def _move(
    http: httpx.AsyncClient, stack: Stack, job_id: str, role: str, **change: Any
) -> httpx.Response:
    return await http.post(
        f"{stack.services['documents'].url}/v1/jobs/{job_id}/transitions",
        json=change,
        headers=auth(role),
    )


async def test_a_hold_is_shown_with_its_reason_and_production_resumes(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    app, job = await _verified_job(stack, http, nik())
    # The job keeps the promise made at the counter.
    assert job["due_at"] is not None
    assert datetime.fromisoformat(job["due_at"]) == datetime.fromisoformat(app["expected_ready_at"])

    assert (
        await _move(http, stack, job["id"], "production", to="in_production")
    ).status_code == 200
    no_reason = await _move(http, stack, job["id"], "production", to="on_hold")
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["type"] == "hold_reason_required"
    held = await _move(
        http,
        stack,
        job["id"],
        "production",
        to="on_hold",
        reason_code="blanko_habis",
        note="stok habis",
    )
    assert held.status_code == 200, held.text
    assert (held.json()["state"], held.json()["held_from"]) == ("on_hold", "in_production")

    async def shows_hold() -> dict[str, Any] | None:
        r = (await http.get(f"{intake}/v1/track/{app['tracking_code']}")).json()
        return r if r["status"] == "on_hold" else None

    tracking = await eventually(shows_hold)
    assert tracking["hold_reason"] == "blanko KTP-el sedang habis"
    assert "tertunda" in tracking["next_step"]

    # Only the state it was held from resumes it.
    skipped = await _move(http, stack, job["id"], "production", to="produced")
    assert skipped.status_code == 409 and skipped.json()["current_state"] == "on_hold"
    resumed = await _move(http, stack, job["id"], "production", to="in_production")
    assert resumed.status_code == 200 and resumed.json()["held_from"] is None
    assert (await _move(http, stack, job["id"], "production", to="produced")).status_code == 200

    async def moved_on() -> dict[str, Any] | None:
        r = (await http.get(f"{intake}/v1/track/{app['tracking_code']}")).json()
        return r if r["status"] == "produced" else None

    assert (await eventually(moved_on))["hold_reason"] is None

    async def told() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"application_id": app["id"]},
            headers=auth("supervisor"),
        )
        found = [
            m for m in r.json()["items"] if m["source_event_type"] == "mpp.document.on_hold.v1"
        ]
        return found or None

    [message] = await eventually(told)
    assert "blanko KTP-el sedang habis" in message["body"]


async def test_only_a_supervisor_cancels_and_the_resident_may_apply_again(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    intake = stack.services["intake"].url
    resident = nik()
    app, job = await _verified_job(stack, http, resident)
    refused = await _move(
        http, stack, job["id"], "production", to="cancelled", reason="salah input"
    )
    assert refused.status_code == 403
    no_reason = await _move(http, stack, job["id"], "supervisor", to="cancelled")
    assert no_reason.status_code == 422
    cancelled = await _move(
        http, stack, job["id"], "supervisor", to="cancelled", reason="salah input data"
    )
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    after = await _move(http, stack, job["id"], "supervisor", to="cancelled", reason="lagi")
    assert after.status_code == 409 and after.json()["current_state"] == "cancelled"

    async def ended() -> bool:
        r = (await http.get(f"{intake}/v1/track/{app['tracking_code']}")).json()
        return r["status"] == "cancelled"

    await eventually(ended)
    again = await http.post(
        f"{intake}/v1/applications",
        json=body("ktp_el", ["kartu_keluarga", "bukti_usia_17"], nik=resident),
        headers=auth("frontdesk"),
    )
    assert again.status_code == 201, again.text


async def test_a_produced_document_is_numbered_verifiable_and_revocable(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    documents = stack.services["documents"].url
    resident = nik()
    _app, job = await _verified_job(stack, http, resident)
    assert (
        await _move(http, stack, job["id"], "production", to="in_production")
    ).status_code == 200
    produced = await _move(http, stack, job["id"], "production", to="produced")
    assert produced.status_code == 200, produced.text
    number, code = produced.json()["document_number"], produced.json()["verification_code"]
    assert number.startswith("3506-KTP-") and code.startswith("V")

    checked = await http.get(f"{documents}/v1/verify/{code}")
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    assert (answer["status"], answer["number"], answer["valid"]) == ("valid", number, True)
    assert "*" in answer["holder"] and resident not in checked.text and "Siti" not in checked.text

    refused = await http.post(
        f"{documents}/v1/documents/{number}/revocation",
        json={"reason": "dicetak ganda"},
        headers=auth("production"),
    )
    assert refused.status_code == 403
    revoked = await http.post(
        f"{documents}/v1/documents/{number}/revocation",
        json={"reason": "dicetak ganda"},
        headers=auth("supervisor"),
    )
    assert revoked.status_code == 200, revoked.text
    after = (await http.get(f"{documents}/v1/verify/{code}")).json()
    assert (after["status"], after["valid"]) == ("revoked", False)


async def test_a_breached_promise_reaches_the_citizen_once(
    stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock
) -> None:
    import asyncpg

    # Applied for on the last working day before a holiday (KTP-el: one
    # working day, at a kecamatan closed on weekends): the promise skips the
    # holiday and any weekend beside it, counted here from the holidays
    # package, not by the services' own calendar code.
    eve = working_eve_of_holiday(service_clock.now().astimezone(WIB).date())
    service_clock.travel_to(service_clock.local(eve, 9, 30))
    app, job = await _verified_job(stack, http, nik(), pickup_point="KEC-PARE")
    promised = datetime.fromisoformat(app["expected_ready_at"]).astimezone(WIB)
    assert promised.date() == add_working_days(eve, 1), (eve, promised)
    assert datetime.fromisoformat(job["due_at"]) == promised

    conn = await asyncpg.connect(stack.services["documents"].env["DATABASE_URL"])
    try:

        async def clock_of_job() -> asyncpg.Record | None:
            row = await conn.fetchrow(
                "SELECT warned_at, breached_at FROM sla_clocks WHERE subject_id = $1",
                uuid.UUID(job["id"]),
            )
            return row if row is not None and row["warned_at"] is not None else None

        # A minute before the promise: warned, not breached.
        service_clock.travel_to(promised - timedelta(minutes=1))
        row = await eventually(clock_of_job, timeout=30)
        assert row["breached_at"] is None

        # A moment after it: breached, by the running scheduler on its own.
        service_clock.travel_to(promised + timedelta(seconds=1))

        async def breached() -> asyncpg.Record | None:
            found = await clock_of_job()
            return found if found is not None and found["breached_at"] is not None else None

        row = await eventually(breached, timeout=30)
        assert row["breached_at"] >= promised
    finally:
        await conn.close()

    async def told() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{stack.services['notify'].url}/v1/notifications",
            params={"application_id": app["id"]},
            headers=auth("supervisor"),
        )
        found = [m for m in r.json()["items"] if m["source_event_type"] == "mpp.sla.breached.v1"]
        return found or None

    [message] = await eventually(told)
    assert app["tracking_code"] in message["body"] and "Mohon maaf" in message["body"]
