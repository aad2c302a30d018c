"""HTTP edge helpers: request fingerprints, error messages in the caller's
language, refusals of the framework in the shared shape, text the database
cannot store, and the refusals declared in the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request

from mpp_intake.api.schemas import VALIDATION_MESSAGES, ApplicationCreate, VerificationDecision
from mpp_shared.idempotency import request_fingerprint
from mpp_shared.web import (
    ApiError,
    document_errors,
    install_error_handlers,
    register_messages,
    request_language,
)
from mpp_shared.web.errors import (
    _api_error_handler,
    _field_name,
    _message,
    _validation_handler,
)

VALID_NIK = "3506042602660001"


@pytest.fixture(autouse=True, scope="module")
def _intake_messages() -> None:
    # what mpp_intake.main does at start-up
    register_messages(VALIDATION_MESSAGES)


def _request(accept_language: str | None = None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def _errors(model: type[BaseModel], **data: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        model(**data)
    # Plain dicts, as the error handler receives them from FastAPI.
    return [dict(error) for error in info.value.errors()]


# --- fingerprint --------------------------------------------------------------


def test_fingerprint_is_stable_across_key_order() -> None:
    a = {"nik": VALID_NIK, "full_name": "Budi", "nested": {"x": 1, "y": [1, 2]}}
    b = {"nested": {"y": [1, 2], "x": 1}, "full_name": "Budi", "nik": VALID_NIK}
    assert request_fingerprint(a) == request_fingerprint(b)
    assert len(request_fingerprint(a)) == 64
    int(request_fingerprint(a), 16)  # hex


def test_fingerprint_changes_with_content() -> None:
    base = {"nik": VALID_NIK, "items": [1, 2]}
    assert request_fingerprint(base) != request_fingerprint({**base, "nik": "3506042602660002"})
    assert request_fingerprint(base) != request_fingerprint({**base, "items": [2, 1]})
    assert request_fingerprint(base) != request_fingerprint({**base, "extra": None})


# --- language -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "id"),
        ("", "id"),
        ("id-ID,id;q=0.9,en;q=0.8", "id"),
        ("en-US,en;q=0.9", "en"),
        ("EN", "en"),
        (" en-GB , id", "en"),
        ("fr-FR,en;q=0.5", "id"),
    ],
)
def test_request_language(header: str | None, expected: str) -> None:
    assert request_language(_request(header)) == expected


# --- field names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "nik"), "nik"),
        (("query", "page"), "page"),
        (("path", "application_id"), "application_id"),
        (("header", "Idempotency-Key"), "Idempotency-Key"),
        (("body", "items", 0, "name"), "items.0.name"),
        (("body",), "body"),
        ((), "body"),
    ],
)
def test_field_name(loc: tuple[Any, ...], expected: str) -> None:
    assert _field_name(loc) == expected


# --- messages -----------------------------------------------------------------


def test_missing_field_in_both_languages() -> None:
    errors = _errors(ApplicationCreate, service_code="kk", full_name="Budi")
    (error,) = errors
    assert error["type"] == "missing"
    assert _message(error, "id") == "wajib diisi"
    assert _message(error, "en") == "is required"


def test_custom_type_with_context_in_both_languages() -> None:
    (error,) = _errors(
        VerificationDecision,
        decision="verified",
        checks=[
            {"requirement": "kk", "result": "invalid"},
            {"requirement": "ktp_el", "result": "ok"},
            {"requirement": "buku_nikah", "result": "invalid"},
        ],
    )
    assert error["type"] == "invalid_items_on_verify"
    assert (
        _message(error, "id")
        == "tidak dapat diverifikasi: ada persyaratan tidak sah (kk, buku_nikah)"
    )
    assert (
        _message(error, "en")
        == "cannot be verified: some requirements are invalid (kk, buku_nikah)"
    )


def test_custom_type_without_context_in_both_languages() -> None:
    (error,) = _errors(
        ApplicationCreate, service_code="kk", nik="9971011708450001", full_name="Budi"
    )
    assert error["type"] == "nik_invalid"
    assert _message(error, "id").startswith("NIK tidak sah")
    assert (
        _message(error, "en") == "the NIK is not valid: its region code or birth date cannot exist"
    )


def test_model_level_custom_error() -> None:
    (error,) = _errors(
        ApplicationCreate,
        service_code="kk",
        nik=VALID_NIK,
        full_name="Budi",
        phone="081234567890",
        preferred_channel="email",
    )
    assert _field_name(tuple(error["loc"])) == "body"
    assert _message(error, "id") == "saluran pilihan email memerlukan kontaknya"
    assert _message(error, "en") == "the preferred channel email needs its contact"


def test_builtin_types_with_context() -> None:
    class Page(BaseModel):
        size: int = Field(ge=1, le=100)
        lang: str = Field(min_length=2)

    errors = {e["type"]: e for e in _errors(Page, size=500, lang="x")}
    assert _message(errors["less_than_equal"], "id") == "maksimal 100"
    assert _message(errors["less_than_equal"], "en") == "must be at most 100"
    assert _message(errors["string_too_short"], "en") == "is too short"
    (low,) = _errors(Page, size=0, lang="id")
    assert _message(low, "en") == "must be at least 1"


def test_literal_error_lists_the_choices() -> None:
    (error,) = _errors(
        ApplicationCreate, service_code="kk", nik=VALID_NIK, full_name="Budi", language="fr"
    )
    assert error["type"] == "literal_error"
    assert _message(error, "en") == "must be one of: 'id' or 'en'"
    assert _message(error, "id") == "harus salah satu dari: 'id' or 'en'"


def test_value_error_prefix_is_dropped() -> None:
    error = {"type": "value_error", "msg": "Value error, tanggal tidak sah", "ctx": {"error": "x"}}
    assert _message(error, "id") == "tanggal tidak sah"
    assert _message(error, "en") == "tanggal tidak sah"


def test_unknown_type_falls_back_to_the_pydantic_message() -> None:
    error = {"type": "some_unregistered_type", "msg": "original message"}
    assert _message(error, "en") == "original message"
    assert _message({"type": "some_unregistered_type"}, "id") == "some_unregistered_type"


def test_template_with_missing_context_falls_back_to_the_message() -> None:
    register_messages({"unit_test_needs_ctx": ("butuh {thing}", "needs {thing}")})
    error = {"type": "unit_test_needs_ctx", "msg": "pesan asli"}
    assert _message(error, "en") == "pesan asli"
    assert _message({**error, "ctx": {"thing": "kopi"}}, "en") == "needs kopi"
    assert _message({**error, "ctx": {"thing": "kopi"}}, "id") == "butuh kopi"


async def test_validation_handler_answers_in_the_requested_language() -> None:
    errors = _errors(
        ApplicationCreate, service_code="paspor", nik="123", full_name="Budi", phone="12345"
    )
    exc = RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])

    id_response = await _validation_handler(_request(), exc)
    assert id_response.status_code == 422
    body = json.loads(bytes(id_response.body))
    assert body["code"] == "invalid"
    assert body["detail"].startswith("Data tidak valid: ")
    # the service code is checked later, against the catalog in the database
    assert {e["field"]: e["type"] for e in body["errors"]} == {
        "nik": "nik_format",
        "phone": "phone_invalid",
    }
    assert "nik: NIK harus 16 angka" in body["detail"]

    en_response = await _validation_handler(_request("en"), exc)
    body = json.loads(bytes(en_response.body))
    assert body["detail"].startswith("The request is not valid: ")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages == {
        "nik": "the NIK must be 16 digits",
        "phone": "the phone number is not valid (example: 0812 3456 7890)",
    }


# --- ApiError -----------------------------------------------------------------


def test_api_error_body_picks_the_language() -> None:
    error = ApiError(404, "not_found", "Permohonan tidak ditemukan", "Application not found")
    assert error.body("id") == {"code": "not_found", "detail": "Permohonan tidak ditemukan"}
    assert error.body("en") == {"code": "not_found", "detail": "Application not found"}


def test_api_error_body_carries_extra_fields() -> None:
    error = ApiError(
        409, "conflict", "Status sudah berubah", "The status changed", extra={"current": "verified"}
    )
    assert error.body("en") == {
        "code": "conflict",
        "detail": "The status changed",
        "current": "verified",
    }
    assert error.status_code == 409
    assert isinstance(error, Exception)


def _unknown_service() -> ApiError:
    return ApiError.invalid(
        "service_code",
        "unknown_service",
        "layanan tidak dikenal: paspor",
        "unknown service: paspor",
    )


def test_api_error_invalid_is_localized() -> None:
    error = _unknown_service()
    assert error.status_code == 422
    assert error.body("id") == {
        "code": "invalid",
        "detail": "Data tidak valid: service_code: layanan tidak dikenal: paspor",
        "errors": [
            {
                "field": "service_code",
                "type": "unknown_service",
                "message": "layanan tidak dikenal: paspor",
            }
        ],
    }
    assert error.body("en") == {
        "code": "invalid",
        "detail": "The request is not valid: service_code: unknown service: paspor",
        "errors": [
            {
                "field": "service_code",
                "type": "unknown_service",
                "message": "unknown service: paspor",
            }
        ],
    }
    # rendering one language does not spoil the other
    assert error.body("id")["errors"][0]["message"] == "layanan tidak dikenal: paspor"
    assert error.extra["errors"][0]["message_en"] == "unknown service: paspor"


async def test_api_error_invalid_looks_like_a_validation_error() -> None:
    """A client reads a catalog refusal exactly as it reads a pydantic one."""
    (pydantic_error,) = _errors(ApplicationCreate, service_code="kk", nik="123", full_name="Budi")
    exc = RequestValidationError([{**pydantic_error, "loc": ("body", "nik")}])
    for language in (None, "en"):
        validation = json.loads(bytes((await _validation_handler(_request(language), exc)).body))
        refusal = await _api_error_handler(_request(language), _unknown_service())
        assert refusal.status_code == 422
        body = json.loads(bytes(refusal.body))
        assert set(body) == set(validation) == {"code", "detail", "errors"}
        assert body["code"] == validation["code"]
        assert [set(e) for e in body["errors"]] == [set(e) for e in validation["errors"]]
        prefix = "The request is not valid: " if language else "Data tidak valid: "
        assert body["detail"].startswith(prefix) and validation["detail"].startswith(prefix)


def test_api_error_body_leaves_errors_without_messages_alone() -> None:
    errors = [{"field": "pickup_points", "type": "unknown_pickup_point"}]
    error = ApiError(422, "invalid", "tidak sah", "not valid", {"errors": errors})
    assert error.body("en")["errors"] == errors
    assert error.body("id")["errors"] == errors


# --- the edge as a running app ------------------------------------------------


def _edge_app() -> tuple[FastAPI, list[Any]]:
    """A small app with the services' edge: what reached a route is recorded."""
    app = FastAPI()
    install_error_handlers(app)
    reached: list[Any] = []
    things = APIRouter(prefix="/v1/things")

    @things.get("")
    async def list_things(name: str | None = None) -> dict[str, Any]:
        reached.append(name)
        return {"name": name}

    @things.post("/search")
    async def search(body: dict[str, Any]) -> dict[str, Any]:
        reached.append(body)
        return body

    @things.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        body = await request.body()
        reached.append(body)
        return {"size": len(body)}

    @things.get("/{thing_id}", dependencies=[Depends(HTTPBearer(auto_error=False))])
    async def get_thing(thing_id: str) -> dict[str, Any]:
        reached.append(thing_id)
        if thing_id == "secret":
            raise HTTPException(401, "Token diperlukan", headers={"WWW-Authenticate": "Bearer"})
        return {"id": thing_id}

    @things.put("/{thing_id}")
    async def put_thing(thing_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return body

    @things.get("/{thing_id}/legacy", openapi_extra={"x-mpp-errors": ["503"]})
    async def legacy(thing_id: str, q: int = 0) -> dict[str, Any]:
        return {}

    app.include_router(things)
    document_errors(app)
    return app, reached


async def _call(app: FastAPI, method: str, url: str, **kw: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        return await client.request(method, url, **kw)


@pytest.mark.parametrize(
    ("method", "url", "kw", "field_name"),
    [
        ("GET", "/v1/things?name=Budi%00", {}, "name"),
        ("GET", "/v1/things/ab%00c", {}, "path"),
        (
            "POST",
            "/v1/things/search",
            {"json": {"items": [1, {"nama": "Si\x00ti"}]}},
            "items.1.nama",
        ),
        (
            "POST",
            "/v1/things/search",
            {"content": b'{"note": "\\ud800"}', "headers": {"Content-Type": "application/json"}},
            "note",
        ),
        ("POST", "/v1/things/upload", {"data": {"api_key": "k\x00ey"}}, "api_key"),
        (
            "POST",
            "/v1/things/upload",
            {"content": b"nik,nama\n1,Si\x00ti\n", "headers": {"Content-Type": "text/csv"}},
            "body",
        ),
    ],
)
async def test_text_the_database_cannot_store_is_refused_before_any_route(
    method: str, url: str, kw: dict[str, Any], field_name: str
) -> None:
    """PostgreSQL refuses NUL in text: found anywhere in a request, it is a
    422 naming the field, not a 500 from the database."""
    app, reached = _edge_app()
    answer = await _call(
        app, method, url, headers={"Accept-Language": "en", **kw.pop("headers", {})}, **kw
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": field_name,
            "type": "unstorable_character",
            "message": "contains a character that cannot be stored (NUL or a lone Unicode "
            "surrogate)",
        }
    ]
    assert reached == []


async def test_storable_text_reaches_the_route_whole() -> None:
    app, reached = _edge_app()
    body = {"nama": "Sité 😀 \\u0000 literally", "n": [1, 2]}
    answer = await _call(app, "POST", "/v1/things/search", json=body)
    assert answer.status_code == 200 and answer.json() == body
    upload = await _call(
        app,
        "POST",
        "/v1/things/upload",
        content=b"a" * 70_000,
        headers={"Content-Type": "text/csv"},
    )
    assert upload.json() == {"size": 70_000}
    assert reached == [body, b"a" * 70_000]


async def test_a_wrong_method_names_the_methods_of_the_resource() -> None:
    """/v1/things/search is its own resource, although /v1/things/{thing_id}
    matches it too: Allow names POST alone."""
    app, _ = _edge_app()
    search = await _call(app, "OPTIONS", "/v1/things/search", headers={"Accept-Language": "en"})
    assert search.status_code == 405
    assert search.headers["allow"] == "POST"
    assert search.json() == {
        "code": "method_not_allowed",
        "detail": "Method not allowed here; this address takes POST",
    }
    thing = await _call(app, "DELETE", "/v1/things/abc")
    assert thing.status_code == 405
    assert thing.headers["allow"] == "GET, PUT"
    assert thing.json()["detail"].endswith("yang dapat: GET, PUT")


async def test_framework_refusals_have_the_shared_shape() -> None:
    app, _ = _edge_app()
    unknown = await _call(app, "GET", "/v1/nothing")
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "not_found", "detail": "Alamat tidak ditemukan"}
    unreadable = await _call(
        app,
        "POST",
        "/v1/things/search",
        content=b'{"nama": "\xff"}',
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert unreadable.status_code == 400
    assert unreadable.json() == {
        "code": "unreadable_body",
        "detail": "The request body could not be read",
    }
    refused = await _call(app, "GET", "/v1/things/secret")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json() == {"code": "unauthorized", "detail": "Token diperlukan"}


def test_the_openapi_document_declares_every_refusal_in_the_shared_shape() -> None:
    app, _ = _edge_app()
    document = app.openapi()
    paths = document["paths"]

    def declared(path: str, method: str) -> dict[str, Any]:
        responses: dict[str, Any] = paths[path][method]["responses"]
        return responses

    assert sorted(declared("/v1/things", "get")) == ["200", "422", "429", "503"]
    assert sorted(declared("/v1/things/{thing_id}", "get")) == [
        "200",
        "401",
        "403",
        "404",
        "422",
        "503",
    ]
    assert sorted(declared("/v1/things/{thing_id}", "put")) == [
        "200",
        "400",
        "404",
        "409",
        "422",
        "429",
        "503",
    ]
    # A route with errors of its own keeps them; FastAPI's unused 422 goes.
    assert sorted(declared("/v1/things/{thing_id}/legacy", "get")) == ["200", "503"]
    assert "x-mpp-errors" not in paths["/v1/things/{thing_id}/legacy"]["get"]
    shared = {"$ref": "#/components/schemas/ErrorBody"}
    for status, response in declared("/v1/things/{thing_id}", "put").items():
        if status != "200":
            assert response["content"]["application/json"]["schema"] == shared, status
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ErrorBody"]["required"] == ["code", "detail"]
    assert schemas["FieldError"]["required"] == ["field", "type", "message"]
