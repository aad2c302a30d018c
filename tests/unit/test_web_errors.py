"""HTTP edge helpers: request fingerprints, error messages in the caller's language."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request

from mpp_intake.api.schemas import VALIDATION_MESSAGES, ApplicationCreate, VerificationDecision
from mpp_shared.web import (
    ApiError,
    _api_error_handler,
    _field_name,
    _message,
    _validation_handler,
    register_messages,
    request_fingerprint,
    request_language,
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
    return info.value.errors()


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
