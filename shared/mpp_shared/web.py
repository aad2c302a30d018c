"""HTTP edge shared by the services: errors in the officer's language (also
the framework's own refusals), text the database cannot store refused before
any route, the refusals declared in the OpenAPI document, Idempotency-Key
handling, health endpoints, common dependencies."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mpp_shared.auth import PUBLIC
from mpp_shared.db import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)
Language = Literal["id", "en"]

# Bounds that keep a huge number a 422 instead of a database error (500):
# the largest PostgreSQL `integer`, and the last page a list may ask for
# (page_size is at most a few hundred, so OFFSET stays far inside bigint).
PG_INT_MAX = 2_147_483_647
MAX_PAGE = 100_000


def request_language(request: Request) -> Language:
    """Bahasa Indonesia unless the caller asks for English first."""
    accept = request.headers.get("accept-language", "")
    first = accept.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "id"


LanguageDep = Annotated[Language, Depends(request_language)]


async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat the same key to retry safely: the first answer is returned again.",
    ),
]


@dataclass
class ApiError(Exception):
    """An expected refusal, in both languages, turned into JSON at the edge."""

    status_code: int
    code: str
    message_id: str
    message_en: str
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self, language: Language) -> dict[str, Any]:
        extra = dict(self.extra)
        if "errors" in extra:
            extra["errors"] = [_localized(e, language) for e in extra["errors"]]
        return {
            "code": self.code,
            "detail": self.message_en if language == "en" else self.message_id,
            **extra,
        }

    @classmethod
    def invalid(cls, field_name: str, type_: str, message_id: str, message_en: str) -> ApiError:
        """A 422 about one field, shaped like the validation errors."""
        return cls(
            422,
            "invalid",
            f"Data tidak valid: {field_name}: {message_id}",
            f"The request is not valid: {field_name}: {message_en}",
            {
                "errors": [
                    {
                        "field": field_name,
                        "type": type_,
                        "message_id": message_id,
                        "message_en": message_en,
                    }
                ]
            },
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
    retry_after: int | None = Field(default=None, description="429: seconds to wait")


def _localized(error: dict[str, Any], language: Language) -> dict[str, Any]:
    if "message_id" not in error:
        return error
    out = {k: v for k, v in error.items() if k not in ("message_id", "message_en")}
    out["message"] = error["message_en"] if language == "en" else error["message_id"]
    return out


def refuse_stale_or_illegal(
    *,
    noun: tuple[str, str],
    current: str,
    target: str,
    version: int,
    expected_version: int | None,
    allowed: bool,
) -> None:
    """409 with the current state when a write is stale or a transition illegal.

    `noun` names the thing in both languages, e.g. ("Permohonan", "The application").
    """
    conflict = {"current_state": current, "current_version": version}
    if expected_version is not None and expected_version != version:
        raise ApiError(
            409,
            "stale_version",
            f"{noun[0]} sudah diubah orang lain; muat ulang lalu coba lagi",
            f"{noun[1]} changed since you read it; reload and retry",
            conflict,
        )
    if not allowed:
        raise ApiError(
            409,
            "illegal_transition",
            f"{noun[0]} berstatus {current} dan tidak dapat menjadi {target}",
            f"{noun[1]} is {current} and cannot become {target}",
            conflict,
        )


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


async def _api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(status_code=exc.status_code, content=exc.body(request_language(request)))


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
    app.add_middleware(RefuseUnstorableText)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ApiError, _api_error_handler)
    for exc_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(exc_type, _database_down_handler)


# --- text the database cannot store -------------------------------------------

_UNSTORABLE = (
    "berisi karakter yang tidak dapat disimpan (NUL atau surrogate Unicode tunggal)",
    "contains a character that cannot be stored (NUL or a lone Unicode surrogate)",
)


def _unstorable(text: str) -> bool:
    """PostgreSQL refuses NUL in text and jsonb; a lone UTF-16 surrogate
    (from a JSON "\\ud800" escape) cannot even be encoded to send."""
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)


def _unstorable_in(value: Any, path: str) -> str | None:
    """The first field (dotted path) of a parsed JSON value with unstorable text."""
    if isinstance(value, str):
        return path if _unstorable(value) else None
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, inner in items:
        name = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and _unstorable(key):
            return name
        if (found := _unstorable_in(inner, name)) is not None:
            return found
    return None


def _unstorable_in_body(body: bytes, content_type: str) -> str | None:
    if content_type == "application/json" or content_type.endswith("+json"):
        if b"\\u" not in body:  # only escapes make NUL or surrogates in valid JSON
            return None
        try:
            return _unstorable_in(json.loads(body), "")
        except ValueError:
            return None  # the route answers invalid JSON itself
    if content_type == "application/x-www-form-urlencoded":
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            if _unstorable(name) or _unstorable(value):
                return name
        return None
    return "body" if b"\x00" in body else None


class RefuseUnstorableText:
    """Answers 422, naming the field, a request whose path, query or body holds
    text PostgreSQL cannot store, before any route sees it: otherwise every
    route would have to check each of its strings, and the first it forgot
    would answer 500 from the database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/health/"):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        field_name = (
            "path"
            if _unstorable(scope["path"])
            else next((k for k, v in query if _unstorable(k) or _unstorable(v)), None)
        )
        messages: list[Message] = []
        if field_name is None and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
            body = b"".join(m.get("body", b"") for m in messages)
            content_type = Headers(scope=scope).get("content-type", "")
            field_name = _unstorable_in_body(body, content_type.split(";")[0].strip().lower())
        if field_name is not None:
            refusal = ApiError.invalid(field_name, "unstorable_character", *_UNSTORABLE)
            answer = JSONResponse(refusal.body(request_language(Request(scope))), 422)
            await answer(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


# --- errors in the OpenAPI document -------------------------------------------

_ERROR_DESCRIPTIONS = {
    "400": "The request body could not be read (e.g. not UTF-8)",
    "401": "No bearer token, or not a valid one",
    "403": "The token's role may not do this",
    "404": "Not found",
    "409": "Illegal transition or stale version; the current state is given",
    "422": "The request is not valid: each field and why",
    "429": "Too many requests; retry after the Retry-After seconds",
    "503": "The database cannot be reached; retry after the Retry-After seconds",
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def _expected_errors(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    """The refusals an operation can answer, from what the document says of it:
    a body (400), a token (401, 403), a path parameter (404), a write (409),
    public (429).
    A route with errors of its own (e.g. the Open311 facade) lists the shared
    ones it may still answer in `openapi_extra={"x-mpp-errors": [...]}`."""
    if (own := operation.pop("x-mpp-errors", None)) is not None:
        return set(own)
    found = {"422", "503"}
    found |= {"401", "403"} if operation.get("security") else {"429"}
    if "requestBody" in operation:
        found.add("400")
    if "{" in path:
        found.add("404")
    if method != "get":
        found.add("409")
    return found


def _fastapi_422(response: dict[str, Any] | None) -> bool:
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def declare_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the shared error shape (`ErrorBody`) for every refusal an
    operation can answer, in place of FastAPI's own 422 model, which the
    services never send."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generated = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(generated.pop("$defs", {}))
    schemas["ErrorBody"] = generated
    for path, operations in document.get("paths", {}).items():
        if path.startswith("/health/"):
            continue
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            expected = _expected_errors(path, method, operation)
            if "422" not in expected and _fastapi_422(responses.get("422")):
                del responses["422"]  # the route answers bad input otherwise
            for status in sorted(expected):
                declared = responses.setdefault(
                    status, {"description": _ERROR_DESCRIPTIONS[status]}
                )
                if not declared.get("content") or _fastapi_422(declared):
                    declared["content"] = {"application/json": {"schema": _ERROR_REF}}
    text = json.dumps(document["paths"])
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"/{unused}" not in text:
            schemas.pop(unused, None)
    return document


def document_errors(app: FastAPI) -> None:
    """Make the app's OpenAPI document declare its refusals (see `declare_errors`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- Idempotency-Key ----------------------------------------------------------


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


async def claim_idempotency_key(
    conn: asyncpg.Connection, *, scope: str, key: str, fingerprint: str
) -> StoredAnswer | None:
    """Inside the caller's transaction: None when this request is the first with
    `key` (the caller then does the work and calls `store_answer`), else the
    first request's answer. A concurrent twin waits on the key's row until the
    first commits, then gets its answer."""
    claimed = await conn.fetchval(
        "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING true",
        scope,
        key,
        fingerprint,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
        scope,
        key,
    )
    if row is None or row["status_code"] is None:
        raise ApiError(
            409,
            "idempotency_in_progress",
            "Permintaan yang sama sedang diproses",
            "The same request is still being processed",
        )
    if row["request_hash"] != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "Idempotency-Key ini sudah dipakai untuk permintaan lain",
            "This Idempotency-Key was already used for a different request",
        )
    return StoredAnswer(row["status_code"], row["response"])


async def store_answer(
    conn: asyncpg.Connection, *, scope: str, key: str, status_code: int, body: Any
) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2",
        scope,
        key,
        status_code,
        body,
    )


class Idempotency:
    """Idempotency-Key handling inside a create's transaction.

        once = Idempotency(conn, scope, idempotency_key)
        if (replay := await once.replay(payload)) is not None:
            return replay
        ... create ...
        await once.remember(answer)

    Without a key both steps do nothing.
    """

    def __init__(self, conn: asyncpg.Connection, scope: str, key: str | None) -> None:
        self.conn, self.scope, self.key = conn, scope, key

    async def replay(self, payload: Any) -> JSONResponse | None:
        if not self.key:
            return None
        stored = await claim_idempotency_key(
            self.conn, scope=self.scope, key=self.key, fingerprint=request_fingerprint(payload)
        )
        return None if stored is None else JSONResponse(stored.body, status_code=stored.status_code)

    async def remember(self, answer: BaseModel, status_code: int = 201) -> None:
        if self.key:
            await store_answer(
                self.conn,
                scope=self.scope,
                key=self.key,
                status_code=status_code,
                body=answer.model_dump(mode="json"),
            )


# --- health -------------------------------------------------------------------

health_router = APIRouter(prefix="/health", tags=["health"], dependencies=[PUBLIC])


@health_router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "live"}


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description="database, migrations, broker: ok or what is wrong")


@health_router.get(
    "/ready",
    summary="Database and broker reachable, migrations applied",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the checks say why"}},
)
async def ready(request: Request) -> JSONResponse:
    checks = await request.app.state.runtime.readiness()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        status_code=200 if ok else 503,
        content={"status": "ready" if ok else "not_ready", "checks": checks},
    )
