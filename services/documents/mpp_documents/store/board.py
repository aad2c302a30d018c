"""The reads of the pickup board: one point's counts and the page of
documents waiting there. Jobs made ready before the ready_at column existed
stand in with updated_at: their last change was becoming ready."""

from __future__ import annotations

from datetime import datetime

import asyncpg

COUNTS = """
SELECT
    count(*) FILTER (WHERE state = 'ready_for_pickup') AS ready,
    count(*) FILTER (WHERE state = 'in_transit') AS in_transit,
    count(*) FILTER (WHERE state = 'picked_up' AND picked_up_at >= $2) AS collected_today,
    count(*) FILTER (WHERE state = 'ready_for_pickup'
                       AND coalesce(ready_at, updated_at) < $3) AS overdue
FROM jobs
WHERE pickup_point = $1 AND state IN ('ready_for_pickup', 'in_transit', 'picked_up')
"""
WAITING = """
SELECT id, tracking_code, service_code, holder_masked, version,
       coalesce(ready_at, updated_at) AS ready_at
FROM jobs WHERE pickup_point = $1 AND state = 'ready_for_pickup'
ORDER BY coalesce(ready_at, updated_at) DESC, id DESC
LIMIT $2 OFFSET $3
"""

# What the waiting room may see: the codes and services only, never the holder.
READY = """
SELECT tracking_code, service_code, coalesce(ready_at, updated_at) AS ready_at
FROM jobs WHERE pickup_point = $1 AND state = 'ready_for_pickup'
ORDER BY coalesce(ready_at, updated_at) DESC, id DESC
LIMIT $2
"""
READY_COUNT = "SELECT count(*) FROM jobs WHERE pickup_point = $1 AND state = 'ready_for_pickup'"


async def counts(
    conn: asyncpg.Connection, point: str, *, since: datetime, overdue_before: datetime
) -> asyncpg.Record:
    """ready, in_transit, collected_today (picked up since `since`) and
    overdue (ready before `overdue_before`)."""
    row: asyncpg.Record = await conn.fetchrow(COUNTS, point, since, overdue_before)
    return row


async def waiting(
    conn: asyncpg.Connection, point: str, *, limit: int, offset: int
) -> list[asyncpg.Record]:
    """The documents ready at the point, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(WAITING, point, limit, offset)
    return rows


async def ready(conn: asyncpg.Connection, point: str, *, limit: int) -> list[asyncpg.Record]:
    """tracking_code, service_code and ready_at of what is ready, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(READY, point, limit)
    return rows


async def ready_count(conn: asyncpg.Connection, point: str) -> int:
    found: int = await conn.fetchval(READY_COUNT, point)
    return found
