"""HTTP edge shared by the services: errors in the officer's language,
Idempotency-Key handling, health endpoints, common dependencies."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mpp_shared.auth import PUBLIC
from mpp_shared.db import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)
Language = Literal["id", "en"]


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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ApiError, _api_error_handler)
    for exc_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(exc_type, _database_down_handler)


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


@health_router.get("/ready", summary="Database and broker reachable, migrations applied")
async def ready(request: Request) -> JSONResponse:
    checks = await request.app.state.runtime.readiness()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        status_code=200 if ok else 503,
        content={"status": "ready" if ok else "not_ready", "checks": checks},
    )
