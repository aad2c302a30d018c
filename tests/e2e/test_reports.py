"""SLA compliance and backlog reports on the running stack: open work past its
promise pulls the on-time share down and shows in the backlog; only the
right roles read them; refusals speak the officer's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_production import _move, _verified_job
from tests.support.auth import auth
from tests.support.clock import WIB, ServiceClock, add_working_days, is_working_day
from tests.support.identities import nik


def working_day_promising_within_its_month(after: date) -> date:
    """The first working day after `after` whose next working day is in its month."""
    day = after + timedelta(days=1)
    while not (is_working_day(day) and add_working_days(day, 1).month == day.month):
        day += timedelta(days=1)
    return day


async def test_overdue_open_work_lowers_the_share_and_shows_in_the_backlog(
    stack: Stack, http: httpx.AsyncClient, service_clock: ServiceClock
) -> None:
    documents = stack.services["documents"].url
    # Two KTP-el applications on a working day whose promise (one working
    # day) falls in the same month, so that "the month to date" holds both.
    day = working_day_promising_within_its_month(service_clock.now().astimezone(WIB).date())
    service_clock.travel_to(service_clock.local(day, 9, 0))
    _app, ready_job = await _verified_job(stack, http, nik(), pickup_point="KEC-PARE")
    _app, late_job = await _verified_job(stack, http, nik(), pickup_point="KEC-PARE")
    point = ready_job["pickup_point"]
    for change in (
        {"to": "in_production"},
        {"to": "produced"},
        {"to": "ready_for_pickup", "pickup_point": point},
    ):
        moved = await _move(http, stack, ready_job["id"], "production", **change)
        assert moved.status_code == 200, moved.text

    # The whole stack's clock moves past the other job's promise.
    due = datetime.fromisoformat(late_job["due_at"])
    service_clock.travel_to(due + timedelta(minutes=1))
    today = service_clock.now().astimezone(WIB).date()
    assert today.month == day.month
    period = {
        "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=120)).isoformat(),
    }
    r = await http.get(
        f"{documents}/v1/reports/sla",
        params={"group_by": "service", **period},
        headers=auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["group_by"] == "service"
    assert report["period"]["from"] == period["from"] and report["period"]["to"] == period["to"]
    [ktp] = [row for row in report["rows"] if row["service_code"] == "ktp_el"]
    assert ktp["open_overdue"] >= 1
    assert ktp["closed_on_time"] >= 1
    assert ktp["on_time_share"] is not None and 0 <= ktp["on_time_share"] < 1
    totals = report["totals"]
    assert totals["open_overdue"] >= ktp["open_overdue"]
    assert totals["on_time_share"] is not None and totals["on_time_share"] < 1

    # The default period is the month to date (WIB), here per pickup point.
    default = await http.get(
        f"{documents}/v1/reports/sla", params={"group_by": "point"}, headers=auth("admin")
    )
    assert default.status_code == 200, default.text
    assert default.json()["period"]["from"] == today.replace(day=1).isoformat()
    assert default.json()["period"]["to"] == (today + timedelta(days=1)).isoformat()
    [at_point] = [
        row for row in default.json()["rows"] if row["pickup_point"] == late_job["pickup_point"]
    ]
    assert at_point["service_code"] is None and at_point["open_overdue"] >= 1

    # The backlog shows the open job as overdue where it waits.
    backlog = await http.get(
        f"{documents}/v1/reports/backlog",
        params={"service_code": "ktp_el"},
        headers=auth("production"),
    )
    assert backlog.status_code == 200, backlog.text
    rows: list[dict[str, Any]] = backlog.json()["rows"]
    [queued] = [
        row
        for row in rows
        if row["state"] == late_job["state"] and row["pickup_point"] == late_job["pickup_point"]
    ]
    assert queued["open"] >= 1 and queued["overdue"] >= 1
    assert datetime.fromisoformat(queued["oldest_created_at"]) <= datetime.fromisoformat(
        late_job["created_at"]
    )
    [waiting] = [
        row for row in rows if row["state"] == "ready_for_pickup" and row["pickup_point"] == point
    ]
    assert waiting["open"] >= 1
    assert backlog.json()["totals"]["overdue"] >= 1
    for role in ("pickup", "supervisor"):
        allowed = await http.get(f"{documents}/v1/reports/backlog", headers=auth(role))
        assert allowed.status_code == 200, allowed.text


async def test_only_supervisors_read_compliance_and_refusals_are_explained(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    documents = stack.services["documents"].url
    for path in ("/v1/reports/sla", "/v1/reports/backlog"):
        refused = await http.get(f"{documents}{path}", headers=auth("frontdesk"))
        assert refused.status_code == 403, path
    for role in ("production", "pickup"):
        refused = await http.get(f"{documents}/v1/reports/sla", headers=auth(role))
        assert refused.status_code == 403, role
    assert (await http.get(f"{documents}/v1/reports/sla")).status_code == 401

    inverted = {"from": "2026-07-10", "to": "2026-07-10"}
    r = await http.get(f"{documents}/v1/reports/sla", params=inverted, headers=auth("supervisor"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "to"
    assert r.json()["detail"].startswith("Data tidak valid: to: harus sesudah tanggal awal")
    r = await http.get(
        f"{documents}/v1/reports/sla",
        params=inverted,
        headers={**auth("supervisor"), "Accept-Language": "en"},
    )
    assert r.status_code == 422
    assert "must come after the first day" in r.json()["detail"]

    r = await http.get(
        f"{documents}/v1/reports/sla", params={"group_by": "kecamatan"}, headers=auth("supervisor")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "group_by"
    assert "harus salah satu dari: service, point, service_point" in r.json()["detail"]

    r = await http.get(
        f"{documents}/v1/reports/sla",
        params={"from": "2026-13-01"},
        headers={**auth("supervisor"), "Accept-Language": "en"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "from"
    assert "must be a date YYYY-MM-DD" in r.json()["detail"]
    r = await http.get(
        f"{documents}/v1/reports/sla", params={"from": "2026-13-01"}, headers=auth("supervisor")
    )
    assert "harus berupa tanggal" in r.json()["detail"]
