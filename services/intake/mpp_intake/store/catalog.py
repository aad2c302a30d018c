"""SQL of the service catalog: every change of a service is a new version,
and an application keeps the version it was judged by. The counter path
reads the current service through the short cache of `store.cache`."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from mpp_intake.domain.catalog import Requirement, ServiceVersion
from mpp_intake.store import cache

VERSION_COLUMNS = """
v.code, v.version, v.name_id, v.name_en, v.opd, v.fee_idr, v.sla_amount, v.sla_unit,
v.pickup_points, v.channels, v.requirements
"""
CURRENT = f"""
SELECT {VERSION_COLUMNS} FROM catalog_services s
JOIN catalog_service_versions v ON v.code = s.code AND v.version = s.current_version
WHERE s.active
"""
VERSION = (
    f"SELECT {VERSION_COLUMNS} FROM catalog_service_versions v WHERE v.code = $1 AND v.version = $2"
)
LOCK_SERVICE = "SELECT current_version FROM catalog_services WHERE code = $1 FOR UPDATE"
INSERT_SERVICE = "INSERT INTO catalog_services (code, current_version) VALUES ($1, 0)"
INSERT_VERSION = """
INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr,
    sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""
MAKE_CURRENT = "UPDATE catalog_services SET current_version = $2, active = $3 WHERE code = $1"


def _service(row: asyncpg.Record) -> ServiceVersion:
    requirements = row["requirements"]
    if isinstance(requirements, str):
        requirements = json.loads(requirements)
    return ServiceVersion(
        code=row["code"],
        version=row["version"],
        name_id=row["name_id"],
        name_en=row["name_en"],
        opd=row["opd"],
        fee_idr=row["fee_idr"],
        sla_amount=row["sla_amount"],
        sla_unit=row["sla_unit"],
        pickup_points=tuple(row["pickup_points"]),
        channels=tuple(row["channels"]),
        requirements=tuple(Requirement.from_json(r) for r in requirements),
    )


async def current_services(conn: asyncpg.Connection | asyncpg.Pool) -> list[ServiceVersion]:
    return [_service(r) for r in await conn.fetch(CURRENT + " ORDER BY v.code")]


async def current_service(
    conn: asyncpg.Connection | asyncpg.Pool, code: str
) -> ServiceVersion | None:
    row = await conn.fetchrow(CURRENT + " AND s.code = $1", code)
    return _service(row) if row else None


async def current_service_cached(conn: asyncpg.Connection, code: str) -> ServiceVersion | None:
    return await cache.cached(("service", code), lambda: current_service(conn, code))


async def service_version(
    conn: asyncpg.Connection | asyncpg.Pool, code: str, version: int
) -> ServiceVersion | None:
    row = await conn.fetchrow(VERSION, code, version)
    return _service(row) if row else None


async def publish_version(conn: asyncpg.Connection, doc: dict[str, Any], by: str) -> int:
    """Store `doc` as the next version of its service (creating the service)
    and make it current; the version number. Locks the service row, so two
    admins publishing at once get two versions, one after the other."""
    code = doc["code"]
    current = await conn.fetchval(LOCK_SERVICE, code)
    version = (current or 0) + 1
    if current is None:
        await conn.execute(INSERT_SERVICE, code)
    await conn.execute(
        INSERT_VERSION,
        code,
        version,
        doc["name_id"],
        doc["name_en"],
        doc["opd"],
        doc["fee_idr"],
        doc["sla_amount"],
        doc["sla_unit"],
        doc["pickup_points"],
        doc["channels"],
        doc["requirements"],
        by,
    )
    await conn.execute(MAKE_CURRENT, code, version, doc.get("active", True))
    cache.forget()
    return version
