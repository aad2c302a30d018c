"""Supervisors search the register of issued documents on the running stack:
by number (exact or its start), document type, pickup point, issue dates
(WIB days) and status, a page at a time with the count of all; the holder
masked; nobody else may search."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from tests.e2e.test_pickup import _ready
from tests.support.auth import auth
from tests.support.clock import WIB
from tests.support.http import expect
from tests.support.identities import nik

POINT = "KEC-WATES"  # no other end-to-end test makes documents ready there


def _day(moment: str) -> date:
    return datetime.fromisoformat(moment).astimezone(WIB).date()


async def test_supervisors_search_the_register(stack: Stack, http: httpx.AsyncClient) -> None:
    documents = stack.services["documents"].url
    residents = [nik() for _ in range(3)]
    jobs = [(await _ready(stack, http, resident, point=POINT))[1] for resident in residents]
    numbers = [job["document_number"] for job in jobs]

    async def search(role: str = "supervisor", **params: Any) -> httpx.Response:
        return await http.get(f"{documents}/v1/documents", params=params, headers=auth(role))

    async def found(**params: Any) -> dict[str, Any]:
        answer: dict[str, Any] = expect(await search(**params))
        return answer

    # By point: the three, newest first, each masked, each with what to print.
    here = await found(pickup_point=POINT)
    assert here["total"] == 3 and (here["page"], here["page_size"]) == (1, 50)
    assert [i["number"] for i in here["items"]] == numbers[::-1]
    for item, job in zip(here["items"][::-1], jobs, strict=True):
        assert (item["id"], item["job_id"]) == (job["document_id"], job["id"])
        assert (item["pickup_point"], item["status"], item["document_type"]) == (
            POINT,
            "valid",
            "ktp_el",
        )
        assert item["verification_url"] == job["verification_url"]
        assert "*" in item["holder_masked"]
    text = str(here)
    for secret in (*residents, "Siti", "Rahayu"):
        assert secret not in text

    # By number: exactly one, whatever its case; by its start: those that share it.
    exact = await found(number=numbers[1].lower())
    assert exact["total"] == 1 and exact["items"][0]["number"] == numbers[1]
    series = numbers[0].rsplit("-", 1)[0] + "-"  # e.g. 3506-KTP-2026-
    assert (await found(number_prefix=series, pickup_point=POINT))["total"] == 3
    assert (await found(number_prefix=numbers[2][:-1]))["items"][0]["number"] == numbers[2]
    assert (await found(number_prefix="3506-AKL-", pickup_point=POINT))["total"] == 0

    # By document type.
    assert (await found(service_code="ktp_el", pickup_point=POINT))["total"] == 3
    assert (await found(service_code="kk", pickup_point=POINT))["total"] == 0

    # By issue date: WIB days, both ends included.
    days = sorted({_day(item["issued_at"]) for item in here["items"]})
    first, last = days[0], days[-1]
    within = await found(pickup_point=POINT, issued_from=first, issued_to=last)
    assert within["total"] == 3
    assert (await found(pickup_point=POINT, issued_to=first - timedelta(days=1)))["total"] == 0
    assert (await found(pickup_point=POINT, issued_from=last + timedelta(days=1)))["total"] == 0
    backwards = await search(issued_from=last, issued_to=first - timedelta(days=1))
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "issued_to"

    # A page at a time, the count of all on every page.
    one = await found(pickup_point=POINT, page_size=2)
    two = await found(pickup_point=POINT, page_size=2, page=2)
    beyond = await found(pickup_point=POINT, page_size=2, page=3)
    assert (one["total"], two["total"], beyond["total"]) == (3, 3, 3)
    paged = [i["number"] for i in one["items"] + two["items"]]
    assert paged == numbers[::-1] and beyond["items"] == []
    assert (await search(page_size=201)).status_code == 422
    assert (await search(page=0)).status_code == 422

    # By status, once one is revoked.
    expect(
        await http.post(
            f"{documents}/v1/documents/{numbers[0]}/revocation",
            json={"reason": "salah cetak"},
            headers=auth("supervisor"),
        )
    )
    revoked = await found(pickup_point=POINT, status="revoked")
    assert [i["number"] for i in revoked["items"]] == [numbers[0]]
    assert revoked["items"][0]["revoke_reason"] == "salah cetak"
    assert (await found(pickup_point=POINT, status="valid"))["total"] == 2
    assert (await search(status="lost")).status_code == 422

    # Supervisors and admins only.
    assert (await search("admin", pickup_point=POINT)).status_code == 200
    for role in ("frontdesk", "production", "pickup", "verifier", "complaint_officer"):
        assert (await search(role)).status_code == 403, role
    opd = await http.get(
        f"{documents}/v1/documents", headers=auth("opd_system", counter=None, opd="DISDUKCAPIL")
    )
    assert opd.status_code == 403
    assert (await http.get(f"{documents}/v1/documents")).status_code == 401
