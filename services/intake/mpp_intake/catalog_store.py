"""SQL for the catalog and pickup points, with a short in-process cache.

The counter path reads the current service and a point's opening hours on
every submission; they change rarely, so each process keeps them for
`CACHE_SECONDS`. Publishing a version clears this process's cache at once;
other instances follow within those seconds, and every application records
the version it was judged by either way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from mpp_intake.domain.catalog import Requirement, ServiceVersion

_VERSION_COLUMNS = """
v.code, v.version, v.name_id, v.name_en, v.opd, v.fee_idr, v.sla_amount, v.sla_unit,
v.pickup_points, v.channels, v.requirements
"""
_CURRENT = f"""
SELECT {_VERSION_COLUMNS} FROM catalog_services s
JOIN catalog_service_versions v ON v.code = s.code AND v.version = s.current_version
WHERE s.active
"""


CACHE_SECONDS = 5.0
_cache: dict[tuple[str, str], tuple[float, Any]] = {}
T = TypeVar("T")


async def _cached(key: tuple[str, str], load: Callable[[], Awaitable[T]]) -> T:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        value: T = hit[1]
        return value
    loaded = await load()
    _cache[key] = (now + CACHE_SECONDS, loaded)
    return loaded


def forget_cached() -> None:
    _cache.clear()


async def current_service_cached(conn: asyncpg.Connection, code: str) -> ServiceVersion | None:
    return await _cached(("service", code), lambda: current_service(conn, code))


async def opening_hours_cached(conn: asyncpg.Connection, point: str) -> dict[str, Any] | None:
    return await _cached(("hours", point), lambda: opening_hours(conn, point))


async def nearest_point_cached(conn: asyncpg.Connection, region6: str) -> str | None:
    return await _cached(("nearest", region6), lambda: nearest_point(conn, region6))


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
    return [_service(r) for r in await conn.fetch(_CURRENT + " ORDER BY v.code")]


async def current_service(
    conn: asyncpg.Connection | asyncpg.Pool, code: str
) -> ServiceVersion | None:
    row = await conn.fetchrow(_CURRENT + " AND s.code = $1", code)
    return _service(row) if row else None


async def service_version(
    conn: asyncpg.Connection | asyncpg.Pool, code: str, version: int
) -> ServiceVersion | None:
    row = await conn.fetchrow(
        f"SELECT {_VERSION_COLUMNS} FROM catalog_service_versions v WHERE v.code = $1 AND v.version = $2",
        code,
        version,
    )
    return _service(row) if row else None


async def publish_version(conn: asyncpg.Connection, doc: dict[str, Any], by: str) -> int:
    """Store `doc` as the next version of its service (creating the service)."""
    code = doc["code"]
    current = await conn.fetchval(
        "SELECT current_version FROM catalog_services WHERE code = $1 FOR UPDATE", code
    )
    version = (current or 0) + 1
    if current is None:
        await conn.execute(
            "INSERT INTO catalog_services (code, current_version) VALUES ($1, 0)", code
        )
    await conn.execute(
        """
        INSERT INTO catalog_service_versions (code, version, name_id, name_en, opd, fee_idr,
            sla_amount, sla_unit, pickup_points, channels, requirements, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """,
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
    await conn.execute(
        "UPDATE catalog_services SET current_version = $2, active = $3 WHERE code = $1",
        code,
        version,
        doc.get("active", True),
    )
    forget_cached()
    return version


async def pickup_points(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM pickup_points ORDER BY code"))


async def pickup_point_codes(conn: asyncpg.Connection | asyncpg.Pool) -> set[str]:
    return {r["code"] for r in await conn.fetch("SELECT code FROM pickup_points")}


async def nearest_point(conn: asyncpg.Connection | asyncpg.Pool, region6: str) -> str | None:
    """The pickup point serving the kecamatan `region6` (first six NIK digits)."""
    code: str | None = await conn.fetchval(
        "SELECT code FROM pickup_points WHERE $1 = ANY(serves_regions) ORDER BY code LIMIT 1",
        region6,
    )
    return code


async def opening_hours(
    conn: asyncpg.Connection | asyncpg.Pool, point: str
) -> dict[str, Any] | None:
    hours = await conn.fetchval("SELECT opening_hours FROM pickup_points WHERE code = $1", point)
    if isinstance(hours, str):
        hours = json.loads(hours)
    return hours
