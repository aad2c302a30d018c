"""Filing against the managed category list, confidential complaints and the
reporter's identity kept from the OPD, on the running stack.

The rate limit's 429 is tested in tests/unit/test_ratelimit.py and, shared by
two instances, in tests/integration/test_shared_rate_limits.py: the shared
stack files from one address for every e2e test, so its limit stays high."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from mpp_complaints.settings import DEV_OPEN311_KEY
from mpp_devstack.stack import Stack
from tests.support.auth import auth

NAME = "Rahmat Hidayat"
PHONE = "081355501234"
EMAIL = "rahmat.hidayat@example.co.id"


async def _file(http: httpx.AsyncClient, stack: Stack, **body: Any) -> httpx.Response:
    return await http.post(
        f"{stack.services['complaints'].url}/v1/complaints",
        json={"description": "Antrean loket sangat lama sekali", **body},
    )


async def test_unknown_category_is_refused(stack: Stack, http: httpx.AsyncClient) -> None:
    r = await _file(http, stack, category="tidak_ada")
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "category" and error["type"] == "unknown_category"
    assert error["message"] == "kategori tidak dikenal: tidak_ada"
    english = await http.post(
        f"{stack.services['complaints'].url}/v1/complaints",
        json={"description": "Antrean loket sangat lama sekali", "category": "tidak_ada"},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 422
    assert english.json()["errors"][0]["message"] == "unknown category: tidak_ada"


async def test_a_new_category_can_be_used_at_once(stack: Stack, http: httpx.AsyncClient) -> None:
    complaints = stack.services["complaints"].url
    code = f"uji_{uuid.uuid4().hex[:8]}"
    put = await http.put(
        f"{complaints}/v1/categories/{code}",
        json={"name_id": "Kategori uji", "name_en": "Test category", "opd": "DPMPTSP"},
        headers=auth("admin"),
    )
    assert put.status_code == 200, put.text
    filed = await _file(http, stack, category=code)
    assert filed.status_code == 201, filed.text
    assert filed.json()["category"] == code

    via_open311 = await http.post(
        f"{complaints}/open311/v2/requests.json",
        data={"api_key": DEV_OPEN311_KEY, "service_code": code, "description": "x" * 20},
    )
    assert via_open311.status_code == 201, via_open311.text

    off = await http.put(
        f"{complaints}/v1/categories/{code}",
        json={
            "name_id": "Kategori uji",
            "name_en": "Test category",
            "opd": "DPMPTSP",
            "active": False,
        },
        headers=auth("admin"),
    )
    assert off.status_code == 200, off.text
    refused = await _file(http, stack, category=code)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["type"] == "unknown_category"
    gone = await http.post(
        f"{complaints}/open311/v2/requests.json",
        data={"api_key": DEV_OPEN311_KEY, "service_code": code, "description": "x" * 20},
    )
    assert gone.status_code == 404, gone.text
    assert gone.json()[0]["code"] == 404


async def test_a_confidential_complaint_is_not_public(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    complaints = stack.services["complaints"].url
    filed = await _file(http, stack, category="pungli", confidential=True)
    assert filed.status_code == 201, filed.text
    assert filed.json()["confidential"] is True
    cid, code = filed.json()["id"], filed.json()["complaint_code"]

    via_open311 = await http.post(
        f"{complaints}/open311/v2/requests.json",
        data={
            "api_key": DEV_OPEN311_KEY,
            "service_code": "pungli",
            "description": "Petugas meminta uang tambahan",
            "attribute[confidential]": "true",
        },
    )
    assert via_open311.status_code == 201, via_open311.text
    [created] = via_open311.json()

    public = await http.get(f"{complaints}/open311/v2/requests.json")
    assert public.status_code == 200
    listed = {r["service_request_id"] for r in public.json()}
    for hidden in (code, created["service_request_id"]):
        assert hidden not in listed
        by_id = await http.get(
            f"{complaints}/open311/v2/requests.json", params={"service_request_id": hidden}
        )
        assert by_id.json() == []
        one = await http.get(f"{complaints}/open311/v2/requests/{hidden}.json")
        assert one.status_code == 404

    officer = await http.get(f"{complaints}/v1/complaints/{cid}", headers=auth("complaint_officer"))
    assert officer.status_code == 200, officer.text
    assert officer.json()["complaint_code"] == code and officer.json()["confidential"] is True


async def test_the_opd_never_sees_an_anonymous_reporter(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    complaints = stack.services["complaints"].url
    filed = await _file(
        http, stack, category="pungli", anonymous=True, reporter_name=NAME, phone=PHONE, email=EMAIL
    )
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    for action, body, role in [
        ("verification", {"decision": "verified"}, "complaint_officer"),
        ("assignment", {}, "complaint_officer"),
        ("progress", {}, "opd_system"),
        ("response", {"text": "Petugas telah diperiksa Inspektorat."}, "opd_system"),
    ]:
        # The OPD system speaks for the OPD the complaint is assigned to (pungli: INSPEKTORAT).
        headers = auth(role, opd="INSPEKTORAT") if role == "opd_system" else auth(role)
        r = await http.post(
            f"{complaints}/v1/complaints/{cid}/{action}", json=body, headers=headers
        )
        assert r.status_code == 200, (action, r.text)
        if role == "opd_system":
            text = json.dumps(r.json())
            for secret in (NAME, "Rahmat", PHONE, "6281355501234", EMAIL):
                assert secret not in text, (action, secret)
            assert r.json()["anonymous"] is True
