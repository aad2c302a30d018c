"""The Open311 GeoReport v2 facade, as another district system uses it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import httpx

from mpp_complaints.domain.complaints import CATEGORIES
from mpp_complaints.settings import DEV_OPEN311_KEY
from mpp_devstack.stack import Stack

PHONE = "081298765432"
EMAIL = "siti.aminah@example.co.id"


def _is_error_list(response: httpx.Response, code: int) -> None:
    assert response.status_code == code, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["code"] == code and body[0]["description"]


async def test_open311_facade(stack: Stack, http: httpx.AsyncClient) -> None:
    base = f"{stack.services['complaints'].url}/open311/v2"

    services = await http.get(f"{base}/services.json")
    assert services.status_code == 200, services.text
    assert [s["service_code"] for s in services.json()] == [
        *CATEGORIES,
        "aspirasi",
        "permintaan_informasi",
    ]
    assert {s["group"] for s in services.json()[-2:]} == {"aspirasi", "permintaan_informasi"}
    first = services.json()[0]
    assert first["service_name"] == CATEGORIES[first["service_code"]][0]
    assert first["metadata"] is False and first["type"] == "realtime"
    assert first["group"] == "pengaduan"
    english = await http.get(f"{base}/services.json", headers={"Accept-Language": "en"})
    assert english.json()[0]["service_name"] == CATEGORIES[first["service_code"]][1]
    definition = await http.get(f"{base}/services/pungli.json")
    assert definition.json() == {"service_code": "pungli", "attributes": []}

    description = "Petugas loket meminta uang tambahan untuk KTP-el"
    filed = await http.post(
        f"{base}/requests.json",
        data={
            "api_key": DEV_OPEN311_KEY,
            "service_code": "pungli",
            "description": description,
            "first_name": "Siti",
            "last_name": "Aminah",
            "phone": PHONE,
            "email": EMAIL,
            "account_id": "12345",
        },
    )
    assert filed.status_code == 201, filed.text
    [created] = filed.json()
    request_id = created["service_request_id"]
    assert request_id.startswith("P") and created["account_id"] is None
    assert created["service_notice"]

    one = await http.get(f"{base}/requests/{request_id}.json")
    assert one.status_code == 200, one.text
    [found] = one.json()
    assert found["service_request_id"] == request_id
    assert found["status"] == "open"
    assert found["description"] == description
    assert found["service_code"] == "pungli"
    assert found["requested_datetime"]
    assert "agency_responsible" in found and "expected_datetime" in found

    listed = await http.get(f"{base}/requests.json", params={"service_request_id": request_id})
    assert [r["service_request_id"] for r in listed.json()] == [request_id]
    recent = await http.get(
        f"{base}/requests.json", params={"service_code": "pungli", "status": "open"}
    )
    assert request_id in [r["service_request_id"] for r in recent.json()]
    closed = await http.get(f"{base}/requests.json", params={"status": "closed"})
    assert request_id not in [r["service_request_id"] for r in closed.json()]

    # The other kinds of reports have service codes of their own.
    asked = await http.post(
        f"{base}/requests.json",
        data={
            "api_key": DEV_OPEN311_KEY,
            "service_code": "permintaan_informasi",
            "description": "Mohon jadwal pelayanan loket tahun 2026",
        },
    )
    assert asked.status_code == 201, asked.text
    [asked_receipt] = asked.json()
    assert "10 hari kerja" in asked_receipt["service_notice"]
    asked_id = asked_receipt["service_request_id"]
    as_kind = await http.get(
        f"{base}/requests.json", params={"service_code": "permintaan_informasi"}
    )
    kinds = {r["service_request_id"]: r["service_code"] for r in as_kind.json()}
    assert kinds[asked_id] == "permintaan_informasi" and request_id not in kinds

    # The JSON route still files as before.
    plain = await http.post(
        f"{stack.services['complaints'].url}/v1/complaints",
        json={"description": "Antrean di loket terlalu lama", "category": "pelayanan"},
    )
    assert plain.status_code == 201, plain.text
    everything = await http.get(f"{base}/requests.json")
    codes = [r["service_request_id"] for r in everything.json()]
    assert request_id in codes and plain.json()["complaint_code"] in codes

    # Nothing personal in any answer.
    for answer in (filed, one, listed, recent, everything):
        text = json.dumps(answer.json())
        for secret in ("Siti", "Aminah", PHONE, "98765432", EMAIL, "tracking_code"):
            assert secret not in text

    # Refusals are Open311 error lists.
    wrong_key = await http.post(
        f"{base}/requests.json",
        data={"api_key": "not-a-key", "service_code": "pungli", "description": description},
    )
    _is_error_list(wrong_key, 403)
    no_key = await http.post(
        f"{base}/requests.json", data={"service_code": "pungli", "description": description}
    )
    _is_error_list(no_key, 403)
    unknown_service = await http.post(
        f"{base}/requests.json",
        data={"api_key": DEV_OPEN311_KEY, "service_code": "nope", "description": description},
    )
    _is_error_list(unknown_service, 404)
    _is_error_list(await http.get(f"{base}/services/nope.json"), 404)
    no_description = await http.post(
        f"{base}/requests.json", data={"api_key": DEV_OPEN311_KEY, "service_code": "pungli"}
    )
    _is_error_list(no_description, 400)
    _is_error_list(await http.get(f"{base}/requests/PZZZZZZZZ.json"), 404)
    _is_error_list(await http.get(f"{base}/requests.json", params={"start_date": "kemarin"}), 400)
    _is_error_list(await http.get(f"{base}/requests.json", params={"status": "pending"}), 400)

    # The same answers as XML.
    as_xml = await http.get(f"{base}/requests/{request_id}.xml")
    assert as_xml.status_code == 200, as_xml.text
    root = ET.fromstring(as_xml.content)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == request_id
    assert root.findtext("request/status") == "open"
    filed_xml = await http.post(
        f"{base}/requests.xml",
        data={"api_key": DEV_OPEN311_KEY, "service_code": "lainnya", "description": description},
    )
    assert filed_xml.status_code == 201, filed_xml.text
    assert ET.fromstring(filed_xml.content).findtext("request/service_request_id")
    bad_xml = await http.post(f"{base}/requests.xml", data={"api_key": "x"})
    assert bad_xml.status_code == 403
    assert ET.fromstring(bad_xml.content).findtext("error/code") == "403"
