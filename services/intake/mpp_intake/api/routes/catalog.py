"""Service catalog (public to read, admin to change) and pickup points."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from mpp_intake import catalog_store
from mpp_intake.api.catalog_schemas import (
    PickupPointList,
    PickupPointPublic,
    ServiceDefinition,
    ServiceList,
    ServicePublic,
)
from mpp_shared import audit
from mpp_shared.auth import PUBLIC, Principal, Role, require_roles
from mpp_shared.web import PG_INT_MAX, ApiError, LanguageDep, PoolDep

services_router = APIRouter(prefix="/v1/services", tags=["catalog"])
points_router = APIRouter(prefix="/v1/pickup-points", tags=["pickup points"], dependencies=[PUBLIC])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


@services_router.get("", response_model=ServiceList, dependencies=[PUBLIC], summary="The catalog")
async def list_services(pool: PoolDep, language: LanguageDep) -> Any:
    items = [ServicePublic.of(s, language) for s in await catalog_store.current_services(pool)]
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
    service = (
        await catalog_store.service_version(pool, code, version)
        if version
        else await catalog_store.current_service(pool, code)
    )
    if service is None:
        raise ApiError(404, "not_found", "Layanan tidak ditemukan", "Service not found")
    return ServicePublic.of(service, language)


@services_router.put(
    "/{code}", response_model=ServicePublic, summary="Publish a new version of a service (admin)"
)
async def publish_service(
    code: str, body: ServiceDefinition, pool: PoolDep, admin: Admin, language: LanguageDep
) -> Any:
    async with pool.acquire() as conn, conn.transaction():
        unknown = sorted(set(body.pickup_points) - await catalog_store.pickup_point_codes(conn))
        if unknown:
            raise ApiError.invalid(
                "pickup_points",
                "unknown_pickup_point",
                f"tempat pengambilan tidak dikenal: {', '.join(unknown)}",
                f"unknown pickup points: {', '.join(unknown)}",
            )
        doc = {"code": code, **body.model_dump()}
        version = await catalog_store.publish_version(conn, doc, admin.subject)
        await audit.record(
            conn,
            admin,
            action="catalog.publish",
            target_type="service",
            target_id=code,
            detail={"version": version},
        )
        service = await catalog_store.service_version(conn, code, version)
    assert service is not None
    return ServicePublic.of(service, language)


@points_router.get("", response_model=PickupPointList, summary="Pickup points, nearest first")
async def list_points(
    pool: PoolDep,
    region: Annotated[
        str | None,
        Query(pattern=r"^\d{6}$", description="Kecamatan code (first six digits of the NIK)"),
    ] = None,
) -> Any:
    nearest = await catalog_store.nearest_point(pool, region) if region else None
    items = [
        PickupPointPublic(**dict(r), suggested=r["code"] == nearest)
        for r in await catalog_store.pickup_points(pool)
    ]
    items.sort(key=lambda p: not p.suggested)
    return PickupPointList(items=items, count=len(items))
