"""Open311 GeoReport v2 facade (https://wiki.open311.org/GeoReport_v2/).

Other systems (LAPOR! liaison, city apps, dashboards) list the complaint
categories as services, file complaints and follow them, in the shapes the
specification fixes. Only public facts are shown: never the reporter's
contact, the linked tracking code or a confidential complaint.

Status mapping (internal -> Open311):
  received, verified, assigned, in_progress, reopened (and any state not
  listed here)                                        -> open
  responded, closed, rejected                         -> closed

Errors are Open311 error lists, `[{"code": 404, "description": "..."}]`,
with the same HTTP status: 400 missing or malformed field, 403 bad api_key,
404 unknown service_code or request, 429 too many filings (with Retry-After).
"""

from __future__ import annotations

import hmac
import xml.etree.ElementTree as ET
from collections.abc import Callable, Container, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from mpp_complaints import filing, ratelimit
from mpp_complaints.api.schemas import ComplaintCreate
from mpp_complaints.domain.complaints import CATEGORIES
from mpp_shared.auth import PUBLIC
from mpp_shared.web import PoolDep, get_pool

CLOSED_STATUSES = ("responded", "closed", "rejected")
OPEN311_STATUSES = ("open", "closed")
DEFAULT_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000
GROUP = "pengaduan"


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def error_list(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def to_xml(root: str, item: str, data: Any) -> bytes:
    """The same data as XML: a list becomes <root><item>...</item></root>."""

    def fill(element: ET.Element, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                fill(ET.SubElement(element, key), inner)
        elif isinstance(value, list):
            for inner in value:
                fill(ET.SubElement(element, "attribute"), inner)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        elif value is not None:
            element.text = str(value)

    top = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            fill(ET.SubElement(top, item), entry)
    else:
        fill(top, data)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def wants_xml(request: Request) -> bool:
    return request.url.path.endswith(".xml")


def answer(request: Request, data: Any, root: str, item: str, status_code: int = 200) -> Response:
    if wants_xml(request):
        return Response(to_xml(root, item, data), status_code=status_code, media_type="text/xml")
    return JSONResponse(data, status_code=status_code)


def error_response(code: int, description: str, xml: bool = False) -> Response:
    if xml:
        return Response(
            to_xml("errors", "error", error_list(code, description)),
            status_code=code,
            media_type="text/xml",
        )
    return JSONResponse(status_code=code, content=error_list(code, description))


def _validation_description(errors: list[Any]) -> str:
    parts = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "request"
        msg = str(e.get("msg", e.get("type", "invalid")))
        parts.append(f"{field}: {msg.removeprefix('Value error, ')}")
    return "; ".join(parts) or "invalid request"


class Open311Route(APIRoute):
    """Answers every refusal of these routes as an Open311 error list."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Open311Error as exc:
                return error_response(exc.code, exc.description, wants_xml(request))
            except RequestValidationError as exc:
                return error_response(
                    400, _validation_description(list(exc.errors())), wants_xml(request)
                )

        return handler


router = APIRouter(
    prefix="/open311/v2", tags=["open311"], dependencies=[PUBLIC], route_class=Open311Route
)


# --- shapes (for the OpenAPI document; the routes build plain data) -----------


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


_ERRORS = {
    400: "A field is missing or malformed",
    403: "api_key is missing or not valid",
    404: "Unknown service_code or service_request_id",
    429: "Too many filings; retry after the Retry-After seconds",
}
# Answered in the services' shared error body (mpp_shared.web), before or
# around these routes: text the database cannot store (422), database down (503).
_OWN_ERRORS = {"x-mpp-errors": ["422", "503"]}
_FORM_FIELD = {"type": "string"}
_FILING_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code", "description"],
                    "properties": {
                        name: _FORM_FIELD
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


def _documented(
    xml: bool, model: Any, *errors: int, status: int = 200, form: bool = False
) -> dict[str, Any]:
    """Route arguments documenting what a route sends: `model` as JSON, or the
    same data as XML, and its Open311 error lists (and the filing form it reads)."""
    extra = {**_OWN_ERRORS, **(_FILING_FORM if form else {})}
    if xml:
        text = {"text/xml": {"schema": {"type": "string"}}}
        return {
            "response_class": Response,
            "openapi_extra": extra,
            "responses": {
                status: {"description": "Open311 XML", "content": text},
                **{code: {"description": _ERRORS[code], "content": text} for code in errors},
            },
        }
    return {
        "response_model": model,
        "openapi_extra": extra,
        "responses": {
            code: {"description": _ERRORS[code], "model": list[Open311ErrorItem]} for code in errors
        },
    }


# --- shaping ------------------------------------------------------------------


def open311_status(internal: str) -> str:
    return "closed" if internal in CLOSED_STATUSES else "open"


def locale(request: Request) -> str:
    wanted = request.query_params.get("locale") or request.headers.get("accept-language", "")
    return "en" if wanted.split(",")[0].strip().lower().startswith("en") else "id"


def service_definition(code: str, language: str) -> dict[str, Any]:
    name_id, name_en = CATEGORIES[code]
    name = name_en if language == "en" else name_id
    return {
        "service_code": code,
        "service_name": name,
        "description": name,
        "metadata": False,
        "type": "realtime",
        "keywords": "pengaduan,complaint",
        "group": GROUP,
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat(timespec="seconds")
    return None


def status_notes(row: Mapping[str, Any], language: str = "id") -> str | None:
    status, opd = row.get("status"), row.get("opd")
    en = language == "en"
    if status == "received":
        return "Complaint received" if en else "Pengaduan diterima"
    if status == "verified":
        return "Complaint verified" if en else "Pengaduan diverifikasi"
    if status == "assigned":
        if opd:
            return f"Forwarded to {opd}" if en else f"Diteruskan ke {opd}"
        return "Forwarded to the responsible agency" if en else "Diteruskan ke OPD terkait"
    if status == "in_progress":
        return "Being handled" if en else "Sedang ditindaklanjuti"
    if status == "reopened":
        return "Reopened" if en else "Dibuka kembali"
    if status == "responded":
        return "Answered" if en else "Sudah ditanggapi"
    if status == "closed":
        return "Closed" if en else "Selesai"
    if status == "rejected":
        reason = row.get("rejection_reason")
        label = "Rejected" if en else "Ditolak"
        return f"{label}: {reason}" if reason else label
    return None


def shape_request(row: Mapping[str, Any], language: str = "id") -> dict[str, Any]:
    """One complaint as an Open311 service request: public fields only."""
    category = row["category"]
    names = CATEGORIES.get(category)
    return {
        "service_request_id": row["complaint_code"],
        "status": open311_status(row["status"]),
        "status_notes": status_notes(row, language),
        "service_name": (names[1] if language == "en" else names[0]) if names else category,
        "service_code": category,
        "description": row["description"],
        "agency_responsible": row.get("opd"),
        "service_notice": None,
        "requested_datetime": _iso(row["created_at"]),
        "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": _iso(row.get("step_due_at")),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def parse_when(name: str, value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} is not an ISO 8601 date-time: {value}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_statuses(value: str) -> set[str]:
    wanted = {s.strip().lower() for s in value.split(",") if s.strip()}
    unknown = wanted - set(OPEN311_STATUSES)
    if unknown:
        raise Open311Error(400, f"status must be open or closed, not {', '.join(sorted(unknown))}")
    return wanted


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes", "y", "ya", "on")


def form_to_complaint(
    form: Mapping[str, str], language: str, known: Container[str] = CATEGORIES
) -> ComplaintCreate:
    """The Open311 POST fields as a ComplaintCreate; refusals as Open311Error.
    `known`: the service codes accepted (the route passes the active categories)."""
    service_code = (form.get("service_code") or "").strip()
    if not service_code:
        raise Open311Error(400, "service_code is required")
    if service_code not in known:
        raise Open311Error(404, f"service_code not found: {service_code}")
    description = (form.get("description") or "").strip()
    if not description:
        raise Open311Error(400, "description is required")
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p and p.strip())
    try:
        return ComplaintCreate(
            category=service_code,
            description=description,
            channel="web",
            anonymous=_truthy(form.get("attribute[anonymous]")),
            confidential=_truthy(form.get("attribute[confidential]")),
            reporter_name=name.strip() or None,
            phone=form.get("phone") or None,
            email=form.get("email") or None,
            language="en" if language == "en" else "id",
        )
    except ValidationError as exc:
        raise Open311Error(400, _validation_description(list(exc.errors()))) from exc


# --- routes -------------------------------------------------------------------


@router.get("/services.xml", summary="Open311: the services, as XML", **_documented(True, None))
@router.get(
    "/services.json",
    summary="Open311: the complaint categories as services",
    **_documented(False, list[Open311Service]),
)
async def list_services(request: Request) -> Response:
    language = locale(request)
    data = [service_definition(code, language) for code in CATEGORIES]
    return answer(request, data, "services", "service")


@router.get(
    "/services/{service_code}.xml",
    summary="Open311: a service definition, as XML",
    **_documented(True, None, 404),
)
@router.get(
    "/services/{service_code}.json",
    summary="Open311: a service definition",
    **_documented(False, Open311ServiceDefinition, 404),
)
async def service_definition_route(service_code: str, request: Request) -> Response:
    if service_code not in CATEGORIES:
        raise Open311Error(404, f"service_code not found: {service_code}")
    data = {"service_code": service_code, "attributes": []}
    return answer(request, data, "service_definition", "attribute")


@router.post(
    "/requests.xml",
    status_code=201,
    summary="Open311: file a complaint, XML answer",
    **_documented(True, None, 400, 403, 404, 429, status=201, form=True),
)
@router.post(
    "/requests.json",
    status_code=201,
    summary="Open311: file a complaint (form-encoded, api_key required)",
    **_documented(False, list[Open311Receipt], 400, 403, 404, 429, form=True),
)
async def create_request(request: Request) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise Open311Error(400, "send the fields as application/x-www-form-urlencoded")
    raw = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    form = {k: v[0] for k, v in raw.items()}
    settings = request.app.state.settings
    api_key = form.get("api_key", "")
    if not api_key or not any(
        hmac.compare_digest(api_key.encode(), k.encode()) for k in settings.open311_keys()
    ):
        raise Open311Error(403, "api_key is missing or not valid")
    wait = ratelimit.limiter(request).take(ratelimit.client_key(request, api_key))
    if wait > 0:
        language = locale(request)
        refusal = error_response(
            429,
            "Too many requests; try again shortly"
            if language == "en"
            else "Terlalu banyak permintaan; coba lagi sebentar lagi",
            wants_xml(request),
        )
        refusal.headers["Retry-After"] = ratelimit.retry_after(wait)
        return refusal
    language = locale(request)
    pool = await get_pool(request)  # only once the request is acceptable
    async with pool.acquire() as conn:
        body = form_to_complaint(form, language, await filing.active_categories(conn))
        try:
            async with conn.transaction():
                filed = await filing.file(
                    conn, settings=settings, cipher=request.app.state.cipher, body=body
                )
        except filing.UnknownCategory as exc:
            raise Open311Error(404, f"service_code not found: {body.category}") from exc
    notice = (
        "Complaint received; it will be verified and forwarded to the responsible agency"
        if language == "en"
        else "Pengaduan diterima; akan diverifikasi dan diteruskan ke OPD terkait"
    )
    data = [
        {"service_request_id": filed.complaint_code, "service_notice": notice, "account_id": None}
    ]
    return answer(request, data, "service_requests", "request", status_code=201)


_SELECT = (
    "SELECT c.complaint_code, c.category, c.description, c.status, c.created_at, c.updated_at, "
    "to_jsonb(c) ->> 'opd' AS opd, to_jsonb(c) ->> 'step_due_at' AS step_due_at, "
    "to_jsonb(c) ->> 'rejection_reason' AS rejection_reason "
    "FROM complaints c "
    "WHERE coalesce((to_jsonb(c) ->> 'confidential')::boolean, false) = false "
)


@router.get(
    "/requests.xml",
    summary="Open311: find complaints, as XML",
    **_documented(True, None, 400, 404),
)
@router.get(
    "/requests.json",
    summary="Open311: find complaints (public fields only)",
    **_documented(False, list[Open311Request], 400, 404),
)
async def list_requests(
    request: Request,
    pool: PoolDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    language = locale(request)
    args: list[Any] = []
    where: list[str] = []
    if service_request_id:
        # The specification: other parameters are ignored with service_request_id.
        ids = [i.strip().upper() for i in service_request_id.split(",") if i.strip()]
        args.append(ids)
        where.append(f"c.complaint_code = ANY(${len(args)}::text[])")
    else:
        end = parse_when("end_date", end_date) if end_date else datetime.now(UTC)
        start = parse_when("start_date", start_date) if start_date else end - DEFAULT_WINDOW
        if start > end:
            raise Open311Error(400, "start_date must not be after end_date")
        args += [start, end]
        where.append("c.created_at BETWEEN $1 AND $2")
        if service_code:
            codes = [c.strip() for c in service_code.split(",") if c.strip()]
            unknown = [c for c in codes if c not in CATEGORIES]
            if unknown:
                raise Open311Error(404, f"service_code not found: {', '.join(unknown)}")
            args.append(codes)
            where.append(f"c.category = ANY(${len(args)}::text[])")
        if status:
            wanted = parse_statuses(status)
            if wanted == {"open"}:
                args.append(list(CLOSED_STATUSES))
                where.append(f"NOT (c.status = ANY(${len(args)}::text[]))")
            elif wanted == {"closed"}:
                args.append(list(CLOSED_STATUSES))
                where.append(f"c.status = ANY(${len(args)}::text[])")
    sql = (
        _SELECT
        + "".join(f"AND {w} " for w in where)
        + f"ORDER BY c.created_at DESC LIMIT {MAX_REQUESTS}"
    )
    rows = await pool.fetch(sql, *args)
    data = [shape_request(dict(r), language) for r in rows]
    return answer(request, data, "service_requests", "request")


@router.get(
    "/requests/{service_request_id}.xml",
    summary="Open311: one complaint, as XML",
    **_documented(True, None, 404),
)
@router.get(
    "/requests/{service_request_id}.json",
    summary="Open311: one complaint",
    **_documented(False, list[Open311Request], 404),
)
async def get_request(service_request_id: str, request: Request, pool: PoolDep) -> Response:
    row = await pool.fetchrow(
        _SELECT + "AND c.complaint_code = $1", service_request_id.strip().upper()
    )
    if row is None:
        raise Open311Error(404, f"service_request_id not found: {service_request_id}")
    data = [shape_request(dict(row), locale(request))]
    return answer(request, data, "service_requests", "request")
