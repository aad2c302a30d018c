"""Errors at the HTTP edge: every refusal in one shape (`ErrorBody`) in the
caller's language, whether a use case raised it (`mpp_shared.errors`), the
edge itself (`ApiError`), the framework (401, 404, 405, 400) or pydantic's
validation (422, in words an officer understands); a database that cannot be
reached answers 503."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, compile_path

from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.errors import (
    Conflict,
    Forbidden,
    Invalid,
    Language,
    NotFound,
    Refusal,
    TooLarge,
    TooManyRequests,
    UnsupportedType,
)

log = logging.getLogger(__name__)


def request_language(request: Request) -> Language:
    """Bahasa Indonesia unless the caller asks for English first."""
    return header_language(request.headers.get("accept-language", ""))


def header_language(accept: str) -> Language:
    """The language of an Accept-Language header: English if it comes first."""
    first = accept.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "id"


class ApiError(Refusal):
    """A refusal decided at the edge itself (authentication, a header, a rate
    limit), with its HTTP status."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message_id: str,
        message_en: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message_id, message_en, **(extra or {}))
        self.status_code = status_code

    @classmethod
    def invalid(cls, field_name: str, type_: str, message_id: str, message_en: str) -> ApiError:
        """A 422 about one field, shaped like the validation errors."""
        refusal = Invalid.field(field_name, type_, message_id, message_en)
        return cls(422, refusal.code, refusal.message_id, refusal.message_en, refusal.extra)


# The one place a kind of refusal becomes an HTTP status.
STATUS_OF: dict[type[Refusal], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Invalid: 422,
    TooLarge: 413,
    UnsupportedType: 415,
    TooManyRequests: 429,
}


def status_of(refusal: Refusal) -> int:
    if isinstance(refusal, ApiError):
        return refusal.status_code
    for kind in type(refusal).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    raise TypeError(f"no HTTP status for {type(refusal).__name__}")


def refusal_response(refusal: Refusal, language: Language) -> JSONResponse:
    headers = {}
    if isinstance(refusal, TooManyRequests) and "retry_after" in refusal.extra:
        headers["Retry-After"] = str(refusal.extra["retry_after"])
    return JSONResponse(
        status_code=status_of(refusal), content=refusal.body(language), headers=headers or None
    )


class FieldError(BaseModel):
    """One problem with one field of the request."""

    model_config = ConfigDict(extra="allow")
    field: str = Field(description="The field, dotted for nested ones, e.g. documents.0.code")
    type: str = Field(description="What is wrong, for programs, e.g. missing or string_too_long")
    message: str = Field(description="What is wrong, in the caller's language")


class ErrorBody(BaseModel):
    """Every refusal of the services' API (4xx, 503) has this shape: a stable
    `code` for programs and a `detail` in the caller's language
    (Accept-Language: id by default, en)."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(description="e.g. invalid, not_found, illegal_transition, unauthorized")
    detail: str
    errors: list[FieldError] | None = Field(default=None, description="422: each invalid field")
    current_state: str | None = Field(default=None, description="409: the state in force")
    current_version: int | None = Field(default=None, description="409: the version in force")
    retry_after: int | None = Field(default=None, description="429, 503: seconds to wait")


# Messages for pydantic's error types, in words an officer understands.
# Services add their own custom types with `register_messages`.
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("wajib diisi", "is required"),
    "string_too_short": ("terlalu pendek", "is too short"),
    "string_too_long": ("terlalu panjang", "is too long"),
    "string_type": ("harus berupa teks", "must be text"),
    "string_pattern_mismatch": ("formatnya tidak sesuai", "has the wrong format"),
    "literal_error": ("harus salah satu dari: {expected}", "must be one of: {expected}"),
    "enum": ("harus salah satu dari: {expected}", "must be one of: {expected}"),
    "int_parsing": ("harus berupa angka", "must be a whole number"),
    "int_type": ("harus berupa angka", "must be a whole number"),
    "bool_parsing": ("harus true atau false", "must be true or false"),
    "uuid_parsing": ("bukan ID yang sah", "is not a valid id"),
    "value_error": ("{msg}", "{msg}"),
    "json_invalid": ("isi permintaan bukan JSON yang sah", "the request body is not valid JSON"),
    "extra_forbidden": ("kolom ini tidak dikenal", "is not a known field"),
    "model_attributes_type": ("harus berupa objek", "must be an object"),
    "dict_type": ("harus berupa objek", "must be an object"),
    "greater_than_equal": ("minimal {ge}", "must be at least {ge}"),
    "less_than_equal": ("maksimal {le}", "must be at most {le}"),
}


def register_messages(messages: dict[str, tuple[str, str]]) -> None:
    _MESSAGES.update(messages)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _message(error: dict[str, Any], language: Language) -> str:
    pair = _MESSAGES.get(error["type"])
    if pair is None:
        return str(error.get("msg", error["type"]))
    template = pair[1] if language == "en" else pair[0]
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    msg = str(error.get("msg", ""))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    try:
        return template.format(msg=msg, **ctx)
    except (KeyError, IndexError):
        return msg or template


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    language = request_language(request)
    errors = [
        {
            "field": _field_name(tuple(e["loc"])),
            "message": _message(e, language),
            "type": e["type"],
        }
        for e in exc.errors()
    ]
    summary = "Data tidak valid" if language == "id" else "The request is not valid"
    listing = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse(
        status_code=422,
        content={"code": "invalid", "detail": f"{summary}: {listing}", "errors": errors},
    )


async def _refusal_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return refusal_response(exc, request_language(request))


# Kept under its old name for the tests of the edge.
_api_error_handler = _refusal_handler


async def _database_down_handler(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    language = request_language(request)
    detail = (
        "Layanan sedang tidak dapat menyimpan data, silakan coba lagi sebentar lagi"
        if language == "id"
        else "The service cannot reach its database right now; please retry shortly"
    )
    return JSONResponse(
        status_code=503,
        content={"code": "unavailable", "detail": detail},
        headers={"Retry-After": "2"},
    )


_HTTP_CODES = {
    400: "unreadable_body",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the resource at this path, for `Allow` (Starlette names
    only the first route that matched the path). The resource is the most
    specific documented path that matches: /v1/applications/search is its own
    resource although /v1/applications/{application_id} matches it too."""
    path = request.scope["path"]
    best: tuple[int, set[str]] | None = None
    for template, operations in request.app.openapi().get("paths", {}).items():
        regex, _format, convertors = compile_path(template)
        if not regex.match(path):
            continue
        if best is None or len(convertors) < best[0]:
            best = (len(convertors), set())
        if len(convertors) == best[0]:
            best[1].update(method.upper() for method in operations)
    if best is not None:
        return sorted(best[1])
    found = []  # an undocumented route (/docs, /openapi.json): ask the router
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method, "path_params": {}, "fastapi": {}}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            found.append(method)
    return found


_UNREADABLE_BODY = (
    "Isi permintaan tidak dapat dibaca",
    "The request body could not be read",
)


async def _http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Refusals raised by the framework and the auth dependencies (401, 403,
    unknown path, wrong method, unreadable body) in the shape of every other
    error."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    detail = str(exc.detail)
    if exc.status_code == 405:
        headers["Allow"] = allowed = ", ".join(_allowed_methods(request))
        detail = (
            f"Method not allowed here; this address takes {allowed}"
            if request_language(request) == "en"
            else f"Metode ini tidak dapat dipakai di alamat ini; yang dapat: {allowed}"
        )
    elif exc.status_code == 404 and detail == "Not Found":  # no route at this path
        detail = "Not found" if request_language(request) == "en" else "Alamat tidak ditemukan"
    elif exc.status_code == 400:
        # FastAPI's only 400: a body it cannot decode (e.g. not UTF-8).
        detail = _UNREADABLE_BODY[1 if request_language(request) == "en" else 0]
    return JSONResponse(
        status_code=exc.status_code,
        content={
            "code": _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"),
            "detail": detail,
        },
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every refusal in the shared shape, including input no handler should
    see at all (text the database cannot store, see `RefuseUnstorableText`)."""
    from mpp_shared.web.unstorable import RefuseUnstorableText

    app.add_middleware(RefuseUnstorableText)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Refusal, _refusal_handler)
    for exc_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(exc_type, _database_down_handler)
