"""What the facade's routes declare in the OpenAPI document: the shapes they
send (the routes build plain data), their Open311 error lists, the filing
form, and the router every facade route is declared on."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from mpp_complaints.api.errors import Open311Route
from mpp_shared.web.auth import PUBLIC


def open311_router() -> APIRouter:
    """A router of the facade: public, under /open311/v2, every refusal an
    Open311 error list."""
    return APIRouter(
        prefix="/open311/v2", tags=["open311"], dependencies=[PUBLIC], route_class=Open311Route
    )


class Open311ErrorItem(BaseModel):
    code: int
    description: str


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class Open311ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict[str, Any]]


class Open311Request(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Receipt(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


ERRORS = {
    400: "A field is missing or malformed",
    403: "api_key is missing or not valid",
    404: "Unknown service_code or service_request_id",
    429: "Too many filings; retry after the Retry-After seconds",
}
# Answered in the services' shared error body (mpp_shared.web), before or
# around these routes: text the database cannot store (422), database down (503).
OWN_ERRORS = {"x-mpp-errors": ["422", "503"]}
FORM_FIELD = {"type": "string"}
FILING_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code", "description"],
                    "properties": {
                        name: FORM_FIELD
                        for name in (
                            "api_key",
                            "service_code",
                            "description",
                            "first_name",
                            "last_name",
                            "phone",
                            "email",
                            "attribute[anonymous]",
                            "attribute[confidential]",
                        )
                    },
                }
            }
        },
    }
}


def documented(
    xml: bool, model: Any, *errors: int, status: int = 200, form: bool = False
) -> dict[str, Any]:
    """Route arguments documenting what a route sends: `model` as JSON, or the
    same data as XML, and its Open311 error lists (and the filing form it reads)."""
    extra = {**OWN_ERRORS, **(FILING_FORM if form else {})}
    if xml:
        text = {"text/xml": {"schema": {"type": "string"}}}
        return {
            "response_class": Response,
            "openapi_extra": extra,
            "responses": {
                status: {"description": "Open311 XML", "content": text},
                **{code: {"description": ERRORS[code], "content": text} for code in errors},
            },
        }
    return {
        "response_model": model,
        "openapi_extra": extra,
        "responses": {
            code: {"description": ERRORS[code], "model": list[Open311ErrorItem]} for code in errors
        },
    }
