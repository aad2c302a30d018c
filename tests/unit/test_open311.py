"""Open311 GeoReport v2 facade: status mapping, field shaping, error lists."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from mpp_complaints.api.errors import error_list
from mpp_complaints.api.routes.open311.format import shape_request, status_notes, to_xml
from mpp_complaints.domain.complaints import CATEGORIES
from mpp_complaints.domain.open311 import (
    Open311Error,
    form_to_complaint,
    open311_status,
    parse_statuses,
    parse_when,
)
from mpp_complaints.main import create_app
from mpp_complaints.settings import DEV_OPEN311_KEY, ComplaintsSettings
from tests.support.secrets import complaints_secrets

ROW = {
    "complaint_code": "PABC12345",
    "category": "pungli",
    "description": "Diminta uang tambahan di loket",
    "status": "received",
    "created_at": datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC),
    "updated_at": datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC),
    "opd": None,
    "step_due_at": None,
    "rejection_reason": None,
}


@pytest.mark.parametrize(
    ("internal", "expected"),
    [
        ("received", "open"),
        ("verified", "open"),
        ("assigned", "open"),
        ("in_progress", "open"),
        ("reopened", "open"),
        ("responded", "closed"),
        ("closed", "closed"),
        ("rejected", "closed"),
        ("something_new", "open"),
    ],
)
def test_status_mapping(internal: str, expected: str) -> None:
    assert open311_status(internal) == expected


def test_shape_without_lifecycle_columns() -> None:
    shaped = shape_request({k: v for k, v in ROW.items() if k not in ("opd", "step_due_at")})
    assert shaped["service_request_id"] == "PABC12345"
    assert shaped["status"] == "open"
    assert shaped["service_code"] == "pungli"
    assert shaped["service_name"] == CATEGORIES["pungli"][0]
    assert shaped["requested_datetime"] == "2026-11-02T03:04:05+00:00"
    assert shaped["agency_responsible"] is None and shaped["expected_datetime"] is None
    assert shaped["status_notes"] == "Pengaduan diterima"
    for field in ("lat", "long", "address", "media_url"):
        assert shaped[field] is None
    assert not {"email", "phone", "first_name", "last_name", "tracking_code"} & set(shaped)


def test_shape_with_lifecycle_columns_from_jsonb() -> None:
    row = {
        **ROW,
        "status": "assigned",
        "opd": "DISDUKCAPIL",
        "step_due_at": "2026-11-09T10:00:00+07:00",
    }
    shaped = shape_request(row, "en")
    assert shaped["agency_responsible"] == "DISDUKCAPIL"
    assert shaped["expected_datetime"] == "2026-11-09T10:00:00+07:00"
    assert shaped["service_name"] == CATEGORIES["pungli"][1]
    assert shaped["status_notes"] == "Forwarded to DISDUKCAPIL"
    assert status_notes({**row, "language": "id"}) == "Diteruskan ke DISDUKCAPIL"


def test_rejection_notes() -> None:
    row = {**ROW, "status": "rejected", "rejection_reason": "duplikat"}
    assert shape_request(row)["status"] == "closed"
    assert status_notes(row) == "Ditolak: duplikat"


def test_error_list_shape() -> None:
    assert error_list(403, "api_key is missing or not valid") == [
        {"code": 403, "description": "api_key is missing or not valid"}
    ]


def test_dates_and_statuses() -> None:
    assert parse_when("start_date", "2026-11-01T00:00:00Z") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_when("start_date", "2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(Open311Error) as bad:
        parse_when("end_date", "yesterday")
    assert bad.value.code == 400
    assert parse_statuses("open,closed") == {"open", "closed"}
    with pytest.raises(Open311Error):
        parse_statuses("pending")


def test_form_to_complaint() -> None:
    body = form_to_complaint(
        {
            "service_code": "pelayanan",
            "description": "Antrean terlalu lama sekali",
            "first_name": "Siti",
            "last_name": "Aminah",
            "phone": "081234567890",
            "attribute[anonymous]": "true",
            "account_id": "ignored",
        },
        "id",
    )
    assert body.category == "pelayanan" and body.channel == "web"
    assert body.anonymous and body.reporter_name == "Siti Aminah"
    assert body.phone == "+6281234567890"
    for form, code in [
        ({"service_code": "nope", "description": "Antrean terlalu lama"}, 404),
        ({"service_code": "pelayanan"}, 400),
        ({"description": "Antrean terlalu lama"}, 400),
        ({"service_code": "pelayanan", "description": "pendek"}, 400),
    ]:
        with pytest.raises(Open311Error) as refused:
            form_to_complaint(form, "id")
        assert refused.value.code == code


def test_dev_key_refused_in_production() -> None:
    assert DEV_OPEN311_KEY in ComplaintsSettings().open311_keys()
    assert ComplaintsSettings(open311_api_keys=" a , b ,").open311_keys() == {"a", "b"}
    with pytest.raises(ValueError, match="OPEN311_API_KEYS"):
        ComplaintsSettings(mpp_env="production", **complaints_secrets())


def test_routes_answer_error_lists_without_a_database() -> None:
    client = TestClient(create_app())  # no lifespan: these answers need no database
    services = client.get("/open311/v2/services.json", params={"locale": "en"})
    assert services.status_code == 200
    assert [s["service_code"] for s in services.json()] == [
        *CATEGORIES,
        "aspirasi",
        "permintaan_informasi",
    ]
    assert services.json()[0]["service_name"] == CATEGORIES["pelayanan"][1]
    by_code = {s["service_code"]: s for s in services.json()}
    assert by_code["pungli"]["group"] == "pengaduan"
    assert by_code["aspirasi"]["group"] == "aspirasi"
    assert "10 working days" in by_code["permintaan_informasi"]["description"]
    assert client.get("/open311/v2/services/aspirasi.json").status_code == 200
    assert client.get("/open311/v2/services/pungli.json").json() == {
        "service_code": "pungli",
        "attributes": [],
    }
    unknown = client.get("/open311/v2/services/nope.json")
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    forbidden = client.post(
        "/open311/v2/requests.json",
        data={"api_key": "wrong", "service_code": "pelayanan", "description": "x" * 20},
    )
    assert forbidden.status_code == 403
    assert forbidden.json() == [{"code": 403, "description": "api_key is missing or not valid"}]


def test_xml_variants() -> None:
    client = TestClient(create_app())
    services = client.get("/open311/v2/services.xml")
    assert services.status_code == 200 and services.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(services.content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == [
        *CATEGORIES,
        "aspirasi",
        "permintaan_informasi",
    ]
    assert root.find("service/metadata").text == "false"  # type: ignore[union-attr]
    refused = client.get("/open311/v2/services/nope.xml")
    assert refused.status_code == 404
    error = ET.fromstring(refused.content)
    assert error.tag == "errors" and error.findtext("error/code") == "404"
    shaped = ET.fromstring(to_xml("service_requests", "request", [shape_request(ROW)]))
    assert shaped.findtext("request/service_request_id") == "PABC12345"
    assert shaped.findtext("request/status") == "open"


def test_the_openapi_document_shows_what_each_open311_route_sends() -> None:
    """XML routes declare XML, JSON routes their shapes, both their Open311
    error lists; the shared 422 (text that cannot be stored) and 503 too, and
    no FastAPI validation error (bad input is a 400 error list here)."""
    paths = create_app().openapi()["paths"]
    expected = {
        ("/open311/v2/services.json", "get"): {"200", "422", "503"},
        ("/open311/v2/services/{service_code}.json", "get"): {"200", "404", "422", "503"},
        ("/open311/v2/requests.json", "post"): {"201", "400", "403", "404", "422", "429", "503"},
        ("/open311/v2/requests.json", "get"): {"200", "400", "404", "422", "503"},
        ("/open311/v2/requests/{service_request_id}.json", "get"): {"200", "404", "422", "503"},
    }
    for (path, method), statuses in expected.items():
        for fmt in ("json", "xml"):
            operation = paths[path.replace(".json", f".{fmt}")][method]
            responses = operation["responses"]
            assert set(responses) == statuses, (path, fmt)
            for status, response in responses.items():
                media = (
                    "application/json" if fmt == "json" or status in ("422", "503") else "text/xml"
                )
                assert list(response["content"]) == [media], (path, fmt, status)
                schema = response["content"][media]["schema"]
                if (
                    media == "application/json"
                    and status not in ("422", "503")
                    and status[0] == "4"
                ):
                    assert schema["items"] == {"$ref": "#/components/schemas/Open311ErrorItem"}
    filing = paths["/open311/v2/requests.json"]["post"]["requestBody"]["content"]
    form = filing["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["api_key", "service_code", "description"]
    assert paths["/open311/v2/requests.json"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["items"] == {"$ref": "#/components/schemas/Open311Request"}
