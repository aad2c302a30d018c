"""Open311 services: the complaint categories, and the two other kinds of
reports (aspirasi, permintaan_informasi), as the facade lists them."""

from __future__ import annotations

from fastapi import Request, Response

from mpp_complaints.api.routes.open311.format import answer, locale, service_definition
from mpp_complaints.api.routes.open311.schemas import (
    Open311Service,
    Open311ServiceDefinition,
    documented,
    open311_router,
)
from mpp_complaints.domain.complaints import CATEGORIES
from mpp_complaints.domain.open311 import KIND_SERVICES, Open311Error

router = open311_router()


@router.get("/services.xml", summary="Open311: the services, as XML", **documented(True, None))
@router.get(
    "/services.json",
    summary="Open311: the complaint categories as services, and the other kinds of reports",
    description="Each complaint category is a service (group `pengaduan`: files a complaint "
    "in that category). `aspirasi` files a suggestion or proposal and `permintaan_informasi` "
    "a request for public information (answered within 10 working days, extendable once by 7).",
    **documented(False, list[Open311Service]),
)
async def list_services(request: Request) -> Response:
    language = locale(request)
    data = [service_definition(code, language) for code in (*CATEGORIES, *KIND_SERVICES)]
    return answer(request, data, "services", "service")


@router.get(
    "/services/{service_code}.xml",
    summary="Open311: a service definition, as XML",
    **documented(True, None, 404),
)
@router.get(
    "/services/{service_code}.json",
    summary="Open311: a service definition",
    **documented(False, Open311ServiceDefinition, 404),
)
async def service_definition_route(service_code: str, request: Request) -> Response:
    if service_code not in CATEGORIES and service_code not in KIND_SERVICES:
        raise Open311Error(404, f"service_code not found: {service_code}")
    data = {"service_code": service_code, "attributes": []}
    return answer(request, data, "service_definition", "attribute")
