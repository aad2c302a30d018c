"""Service catalog (public to read, admin to change) and pickup points."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mpp_intake.api.catalog_schemas import (
    PickupPointList,
    PickupPointPublic,
    ServiceDefinition,
    ServiceList,
    ServicePublic,
)
from mpp_intake.api.deps import Admin
from mpp_intake.domain.catalog import Alternative, Requirement
from mpp_intake.usecases import catalog
from mpp_shared.web import PG_INT_MAX, LanguageDep, PoolDep
from mpp_shared.web.auth import PUBLIC

services_router = APIRouter(prefix="/v1/services", tags=["catalog"])
points_router = APIRouter(prefix="/v1/pickup-points", tags=["pickup points"], dependencies=[PUBLIC])


@services_router.get("", response_model=ServiceList, dependencies=[PUBLIC], summary="The catalog")
async def list_services(pool: PoolDep, language: LanguageDep) -> Any:
    items = [ServicePublic.of(s, language) for s in await catalog.current_services(pool)]
    return ServiceList(items=items, count=len(items))


@services_router.get(
    "/{code}",
    response_model=ServicePublic,
    dependencies=[PUBLIC],
    summary="One service, any version",
)
async def get_service(
    code: str,
    pool: PoolDep,
    language: LanguageDep,
    version: Annotated[int | None, Query(ge=1, le=PG_INT_MAX)] = None,
) -> Any:
    return ServicePublic.of(await catalog.find_service(pool, code, version), language)


@services_router.put(
    "/{code}", response_model=ServicePublic, summary="Publish a new version of a service (admin)"
)
async def publish_service(
    code: str, body: ServiceDefinition, pool: PoolDep, admin: Admin, language: LanguageDep
) -> Any:
    service = await catalog.publish_service(pool, admin, _publish(code, body))
    return ServicePublic.of(service, language)


@points_router.get("", response_model=PickupPointList, summary="Pickup points, nearest first")
async def list_points(
    pool: PoolDep,
    region: Annotated[
        str | None,
        Query(pattern=r"^\d{6}$", description="Kecamatan code (first six digits of the NIK)"),
    ] = None,
) -> Any:
    items = [
        PickupPointPublic(**asdict(choice.point), suggested=choice.suggested)
        for choice in await catalog.pickup_points_nearest_first(pool, region)
    ]
    return PickupPointList(items=items, count=len(items))


def _publish(code: str, body: ServiceDefinition) -> catalog.PublishService:
    return catalog.PublishService(
        code=code,
        name_id=body.name_id,
        name_en=body.name_en,
        opd=body.opd,
        fee_idr=body.fee_idr,
        sla_amount=body.sla_amount,
        sla_unit=body.sla_unit,
        pickup_points=tuple(body.pickup_points),
        channels=tuple(body.channels),
        requirements=tuple(
            Requirement(
                code=r.code,
                name_id=r.name_id,
                name_en=r.name_en,
                mandatory=r.mandatory,
                any_of=tuple(Alternative(a.code, a.name_id, a.name_en) for a in r.any_of),
            )
            for r in body.requirements
        ),
        active=body.active,
    )
