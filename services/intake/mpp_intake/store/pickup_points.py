"""SQL of the pickup points: where documents are collected, their opening
hours, and which point is nearest to a kecamatan."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from mpp_intake.domain.catalog import PickupPoint
from mpp_intake.store import cache

ALL = "SELECT * FROM pickup_points ORDER BY code"
ONE = "SELECT * FROM pickup_points WHERE code = $1"
CODES = "SELECT code FROM pickup_points"
NEAREST = "SELECT code FROM pickup_points WHERE $1 = ANY(serves_regions) ORDER BY code LIMIT 1"
OPENING_HOURS = "SELECT opening_hours FROM pickup_points WHERE code = $1"


def _point(r: asyncpg.Record) -> PickupPoint:
    hours = r["opening_hours"]
    return PickupPoint(
        code=r["code"],
        name=r["name"],
        kind=r["kind"],
        region_code=r["region_code"],
        address=r["address"],
        opening_hours=json.loads(hours) if isinstance(hours, str) else hours,
        daily_capacity=r["daily_capacity"],
        serves_regions=tuple(r["serves_regions"]),
    )


async def pickup_points(conn: asyncpg.Connection | asyncpg.Pool) -> list[PickupPoint]:
    return [_point(r) for r in await conn.fetch(ALL)]


async def pickup_point(conn: asyncpg.Connection | asyncpg.Pool, code: str) -> PickupPoint | None:
    """The point `code`; None when there is none."""
    row = await conn.fetchrow(ONE, code)
    return _point(row) if row else None


async def pickup_point_codes(conn: asyncpg.Connection | asyncpg.Pool) -> set[str]:
    return {r["code"] for r in await conn.fetch(CODES)}


async def nearest_point(conn: asyncpg.Connection | asyncpg.Pool, region6: str) -> str | None:
    """The pickup point serving the kecamatan `region6` (first six NIK digits)."""
    code: str | None = await conn.fetchval(NEAREST, region6)
    return code


async def nearest_point_cached(conn: asyncpg.Connection, region6: str) -> str | None:
    return await cache.cached(("nearest", region6), lambda: nearest_point(conn, region6))


async def opening_hours(
    conn: asyncpg.Connection | asyncpg.Pool, point: str
) -> dict[str, Any] | None:
    hours = await conn.fetchval(OPENING_HOURS, point)
    if isinstance(hours, str):
        hours = json.loads(hours)
    return hours


async def opening_hours_cached(conn: asyncpg.Connection, point: str) -> dict[str, Any] | None:
    return await cache.cached(("hours", point), lambda: opening_hours(conn, point))
