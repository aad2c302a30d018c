"""SQL of online drafts: a signed-in resident's application in the making,
one open draft per resident (NIK and phone) and service."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

OPEN = """
INSERT INTO online_drafts (id, nik_index, phone_index, service_code, created_by, created_at,
                           updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (nik_index, phone_index, service_code) WHERE application_id IS NULL DO NOTHING
"""
OPEN_ONE = """
SELECT * FROM online_drafts
WHERE nik_index = $1 AND phone_index = $2 AND service_code = $3 AND application_id IS NULL
"""
# The owner's draft: a draft of another resident is not found.
OWN = "SELECT * FROM online_drafts WHERE id = $1 AND nik_index = $2 AND phone_index = $3"
OWN_OPEN = """
SELECT * FROM online_drafts
WHERE nik_index = $1 AND phone_index = $2 AND application_id IS NULL
ORDER BY updated_at DESC LIMIT 50
"""
SET_POINT = "UPDATE online_drafts SET pickup_point = $2, updated_at = $3 WHERE id = $1"
TOUCH = "UPDATE online_drafts SET updated_at = $2 WHERE id = $1"
SUBMITTED = "UPDATE online_drafts SET application_id = $2, updated_at = $3 WHERE id = $1"


async def open_draft(
    conn: asyncpg.Connection,
    *,
    nik_index: bytes,
    phone_index: bytes,
    service_code: str,
    created_by: str,
    at: datetime,
) -> asyncpg.Record:
    """The resident's open draft for the service, made when there is none."""
    await conn.execute(OPEN, uuid.uuid4(), nik_index, phone_index, service_code, created_by, at)
    row = await conn.fetchrow(OPEN_ONE, nik_index, phone_index, service_code)
    assert row is not None
    return row


async def own(
    conn: asyncpg.Connection,
    draft_id: uuid.UUID,
    nik_index: bytes,
    phone_index: bytes,
    *,
    lock: bool = False,
) -> asyncpg.Record | None:
    """The owner's draft (locked until the transaction ends with `lock`)."""
    query = OWN + (" FOR UPDATE" if lock else "")
    return await conn.fetchrow(query, draft_id, nik_index, phone_index)


async def own_open(
    conn: asyncpg.Connection | asyncpg.Pool, nik_index: bytes, phone_index: bytes
) -> list[asyncpg.Record]:
    return list(await conn.fetch(OWN_OPEN, nik_index, phone_index))


async def set_point(
    conn: asyncpg.Connection, draft_id: uuid.UUID, point: str | None, at: datetime
) -> None:
    await conn.execute(SET_POINT, draft_id, point, at)


async def touch(conn: asyncpg.Connection, draft_id: uuid.UUID, at: datetime) -> None:
    await conn.execute(TOUCH, draft_id, at)


async def mark_submitted(
    conn: asyncpg.Connection, draft_id: uuid.UUID, application_id: uuid.UUID, at: datetime
) -> None:
    await conn.execute(SUBMITTED, draft_id, application_id, at)
