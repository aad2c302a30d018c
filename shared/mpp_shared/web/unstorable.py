"""Text PostgreSQL cannot store (NUL, a lone surrogate) refused with 422,
naming the field, before any route sees the request."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mpp_shared.web.errors import ApiError, request_language

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


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(rb'name="([^"]*)"', re.IGNORECASE)


def _unstorable_in_multipart(body: bytes, content_type: str) -> str | None:
    """The first text field of a multipart form with unstorable text; file
    parts are bytes (an uploaded scan holds NULs) and are not looked at."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        return None  # the route refuses a form it cannot read
    for part in body.split(b"--" + found.group(1).encode("latin-1")):
        head, separator, value = part.partition(b"\r\n\r\n")
        if not separator or b"filename=" in head.lower():
            continue
        named = _PART_NAME.search(head)
        name = named.group(1).decode("utf-8", "replace") if named else "body"
        text = value.removesuffix(b"\r\n").decode("utf-8", "replace")
        if _unstorable(name) or _unstorable(text):
            return name
    return None


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
            media_type = content_type.split(";")[0].strip().lower()
            field_name = (
                _unstorable_in_multipart(body, content_type)
                if media_type == "multipart/form-data"
                else _unstorable_in_body(body, media_type)
            )
        if field_name is not None:
            refusal = ApiError.invalid(field_name, "unstorable_character", *_UNSTORABLE)
            answer = JSONResponse(refusal.body(request_language(Request(scope))), 422)
            await answer(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
