"""The facade's answers in the shapes the specification fixes: a complaint as
an Open311 service request (public fields only), a category as a service,
the same data as JSON or XML (by the route's suffix), in the caller's
language (`locale`, else Accept-Language)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from mpp_complaints.domain.complaints import CATEGORIES
from mpp_complaints.domain.open311 import KIND_SERVICES, open311_status

GROUP = "pengaduan"


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


def locale(request: Request) -> str:
    wanted = request.query_params.get("locale") or request.headers.get("accept-language", "")
    return "en" if wanted.split(",")[0].strip().lower().startswith("en") else "id"


KIND_KEYWORDS = {
    "aspirasi": "aspirasi,saran,usulan,suggestion,proposal",
    "permintaan_informasi": "permintaan informasi,informasi publik,request for information",
}
KIND_DESCRIPTIONS = {
    "aspirasi": (
        "Saran atau usulan; diteruskan ke OPD terkait dan dijawab",
        "A suggestion or proposal; passed to the responsible agency and answered",
    ),
    "permintaan_informasi": (
        "Permintaan informasi publik (UU 14/2008): dijawab dalam 10 hari kerja, "
        "dapat diperpanjang sekali 7 hari kerja dengan alasan",
        "A request for public information (Law 14/2008): answered within 10 working days, "
        "extendable once by 7 working days with a reason",
    ),
}


def service_definition(code: str, language: str) -> dict[str, Any]:
    """A complaint category (group pengaduan) or another kind of report (its
    own group) as an Open311 service."""
    en = language == "en"
    if code in KIND_SERVICES:
        name_id, name_en = KIND_SERVICES[code]
        about = KIND_DESCRIPTIONS[code]
        return {
            "service_code": code,
            "service_name": name_en if en else name_id,
            "description": about[1] if en else about[0],
            "metadata": False,
            "type": "realtime",
            "keywords": KIND_KEYWORDS[code],
            "group": code,
        }
    name_id, name_en = CATEGORIES[code]
    name = name_en if en else name_id
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
    """One report as an Open311 service request: public fields only. A
    complaint's service is its category; another kind's, the kind."""
    kind = row.get("kind") or GROUP
    service = row["category"] if kind == GROUP else kind
    names = CATEGORIES.get(service) if kind == GROUP else KIND_SERVICES.get(service)
    return {
        "service_request_id": row["complaint_code"],
        "status": open311_status(row["status"]),
        "status_notes": status_notes(row, language),
        "service_name": (names[1] if language == "en" else names[0]) if names else service,
        "service_code": service,
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
