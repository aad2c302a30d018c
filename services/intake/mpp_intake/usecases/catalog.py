"""The service catalog and the pickup points: read by anyone, a new version
of a service published by an admin (audited; earlier versions are kept for
the applications judged by them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from mpp_intake.domain.catalog import Channel, PickupPoint, Requirement, ServiceVersion, SlaUnit
from mpp_intake.store import catalog, pickup_points
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid, NotFound


@dataclass(frozen=True)
class PublishService:
    """A new version of the service `code` (a new service when unknown)."""

    code: str
    name_id: str
    name_en: str
    opd: str
    fee_idr: int
    sla_amount: int
    sla_unit: SlaUnit
    pickup_points: tuple[str, ...]
    channels: tuple[Channel, ...]
    requirements: tuple[Requirement, ...]
    active: bool = True


@dataclass(frozen=True)
class PointChoice:
    point: PickupPoint
    suggested: bool  # nearest to the kecamatan asked about


@dataclass(frozen=True)
class ServiceDetail:
    """A service as the public page shows it: its current version and the
    pickup points it is collected at."""

    service: ServiceVersion
    points: list[PickupPoint]


async def current_services(pool: asyncpg.Pool) -> list[ServiceVersion]:
    return await catalog.current_services(pool)


async def find_service(pool: asyncpg.Pool, code: str, version: int | None) -> ServiceVersion:
    """The current version, or the one asked for; NotFound when there is none."""
    service = (
        await catalog.service_version(pool, code, version)
        if version
        else await catalog.current_service(pool, code)
    )
    if service is None:
        raise NotFound("not_found", "Layanan tidak ditemukan", "Service not found")
    return service


async def service_detail(pool: asyncpg.Pool, code: str) -> ServiceDetail:
    """The current version of `code` with its pickup points, in the catalog's
    order; NotFound when there is no such service."""
    service = await find_service(pool, code, None)
    points = {p.code: p for p in await pickup_points.pickup_points(pool)}
    return ServiceDetail(
        service=service, points=[points[c] for c in service.pickup_points if c in points]
    )


async def publish_service(
    pool: asyncpg.Pool, admin: Principal, command: PublishService
) -> ServiceVersion:
    """Publish and audit; refuses (Invalid) pickup points that do not exist."""
    async with pool.acquire() as conn, conn.transaction():
        unknown = sorted(set(command.pickup_points) - await pickup_points.pickup_point_codes(conn))
        if unknown:
            raise Invalid.field(
                "pickup_points",
                "unknown_pickup_point",
                f"tempat pengambilan tidak dikenal: {', '.join(unknown)}",
                f"unknown pickup points: {', '.join(unknown)}",
            )
        version = await catalog.publish_version(conn, _stored(command), admin.subject)
        await audit.record(
            conn,
            admin,
            action="catalog.publish",
            target_type="service",
            target_id=command.code,
            detail={"version": version},
        )
        service = await catalog.service_version(conn, command.code, version)
    assert service is not None
    return service


async def pickup_points_nearest_first(pool: asyncpg.Pool, region: str | None) -> list[PointChoice]:
    """Every pickup point, the one nearest the kecamatan `region` (if any) first."""
    nearest = await pickup_points.nearest_point(pool, region) if region else None
    choices = [
        PointChoice(point, suggested=point.code == nearest)
        for point in await pickup_points.pickup_points(pool)
    ]
    choices.sort(key=lambda c: not c.suggested)
    return choices


def _stored(command: PublishService) -> dict[str, Any]:
    """The version as `catalog.publish_version` stores it."""
    return {
        "code": command.code,
        "name_id": command.name_id,
        "name_en": command.name_en,
        "opd": command.opd,
        "fee_idr": command.fee_idr,
        "sla_amount": command.sla_amount,
        "sla_unit": command.sla_unit,
        "pickup_points": list(command.pickup_points),
        "channels": list(command.channels),
        "requirements": [r.as_json() for r in command.requirements],
        "active": command.active,
    }
