"""The Open311 GeoReport v2 facade's rules (https://wiki.open311.org/GeoReport_v2/):
how internal states map to Open311's two, how the query of a search and the
form of a filing are read, and the facade's refusals. Pure: no I/O.

Status mapping (internal -> Open311):
  received, verified, assigned, in_progress, reopened (and any state not
  listed here)                                        -> open
  responded, closed, rejected                         -> closed

Services: each complaint category is a service (kind pengaduan); the two
other kinds of reports are a service each, `aspirasi` and
`permintaan_informasi` (KIND_SERVICES).

A refusal is an `Open311Error`: the specification's error code (the HTTP
status it is answered with) and a description.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from mpp_complaints.domain.complaints import CATEGORIES, ComplaintCreate
from mpp_complaints.domain.kinds import Kind

Open311Status = Literal["open", "closed"]
CLOSED_STATUSES = ("responded", "closed", "rejected")
OPEN311_STATUSES: tuple[Open311Status, ...] = ("open", "closed")
# The service codes of the kinds other than complaints (whose service codes
# are their categories), with their names (Bahasa Indonesia, English).
KIND_SERVICES: dict[str, tuple[str, str]] = {
    Kind.ASPIRASI.value: ("Aspirasi (saran atau usulan)", "Suggestion or proposal"),
    Kind.PERMINTAAN_INFORMASI.value: (
        "Permintaan informasi publik",
        "Request for public information",
    ),
}
# A search without dates covers this window up to now.
DEFAULT_WINDOW = timedelta(days=90)


class Open311Error(Exception):
    """A refusal of the facade: `code` is Open311's error code (400 missing or
    malformed field, 403 bad api_key, 404 unknown service_code or request,
    429 too many filings), answered with the same HTTP status."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def open311_status(internal: str) -> Open311Status:
    return "closed" if internal in CLOSED_STATUSES else "open"


def validation_description(errors: Sequence[Any]) -> str:
    """Pydantic's errors as one Open311 description: `field: message; ...`."""
    parts = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "request"
        msg = str(e.get("msg", e.get("type", "invalid")))
        parts.append(f"{field}: {msg.removeprefix('Value error, ')}")
    return "; ".join(parts) or "invalid request"


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


@dataclass(frozen=True)
class RequestFilter:
    """Which public complaints a search asks for: by complaint code (the
    specification ignores every other parameter then), else filed within
    [start, end], optionally of some categories and in one Open311 status."""

    complaint_codes: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    categories: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None  # service codes of KIND_SERVICES
    status: Open311Status | None = None


def request_filter(
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    now: datetime,
) -> RequestFilter:
    """The search's parameters read in the order they are refused: dates
    (400), their order (400), unknown service codes (404), statuses (400)."""
    if service_request_id:
        ids = [i.strip().upper() for i in service_request_id.split(",") if i.strip()]
        return RequestFilter(complaint_codes=tuple(ids))
    end = parse_when("end_date", end_date) if end_date else now
    start = parse_when("start_date", start_date) if start_date else end - DEFAULT_WINDOW
    if start > end:
        raise Open311Error(400, "start_date must not be after end_date")
    categories = kinds = None
    if service_code:
        codes = [c.strip() for c in service_code.split(",") if c.strip()]
        unknown = [c for c in codes if c not in CATEGORIES and c not in KIND_SERVICES]
        if unknown:
            raise Open311Error(404, f"service_code not found: {', '.join(unknown)}")
        categories = tuple(c for c in codes if c in CATEGORIES) or None
        kinds = tuple(c for c in codes if c in KIND_SERVICES) or None
    wanted = parse_statuses(status) if status else set()
    # Both statuses, like none, ask for every complaint.
    only = next((s for s in OPEN311_STATUSES if wanted == {s}), None)
    return RequestFilter(start=start, end=end, categories=categories, kinds=kinds, status=only)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes", "y", "ya", "on")


def form_to_complaint(
    form: Mapping[str, str], language: str, known: Container[str] = CATEGORIES
) -> ComplaintCreate:
    """The Open311 POST fields as a ComplaintCreate; refusals as Open311Error.
    `known`: the categories accepted (filing passes the active ones); the
    service codes of KIND_SERVICES file an aspiration or a request for
    information (in the default category)."""
    service_code = (form.get("service_code") or "").strip()
    if not service_code:
        raise Open311Error(400, "service_code is required")
    kind = service_code if service_code in KIND_SERVICES else Kind.PENGADUAN.value
    if kind == Kind.PENGADUAN and service_code not in known:
        raise Open311Error(404, f"service_code not found: {service_code}")
    description = (form.get("description") or "").strip()
    if not description:
        raise Open311Error(400, "description is required")
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p and p.strip())
    try:
        data = {
            "kind": kind,
            "description": description,
            "channel": "web",
            "anonymous": _truthy(form.get("attribute[anonymous]")),
            "confidential": _truthy(form.get("attribute[confidential]")),
            "reporter_name": name.strip() or None,
            "phone": form.get("phone") or None,
            "email": form.get("email") or None,
            "language": "en" if language == "en" else "id",
        }
        if kind == Kind.PENGADUAN:
            data["category"] = service_code
        return ComplaintCreate.model_validate(data)
    except ValidationError as exc:
        raise Open311Error(400, validation_description(exc.errors())) from exc
