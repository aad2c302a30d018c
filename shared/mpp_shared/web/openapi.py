"""The refusals each operation can answer, declared in the OpenAPI document
with the shared error shape."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from mpp_shared.web.errors import ErrorBody

_ERROR_DESCRIPTIONS = {
    "400": "The request body could not be read (e.g. not UTF-8)",
    "401": "No bearer token, or not a valid one",
    "403": "The token's role may not do this",
    "404": "Not found",
    "409": "Illegal transition or stale version; the current state is given",
    "422": "The request is not valid: each field and why",
    "429": "Too many requests; retry after the Retry-After seconds",
    "503": "Overloaded, or the database cannot be reached; retry after the Retry-After seconds",
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
