"""SQL of online drafts: a signed-in resident's application in the making,
one open draft per resident (NIK and phone) and service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

OPEN = """
INSERT INTO online_drafts (id, nik_index, phone_index, service_code, created_by, created_at,
                           updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (nik_index, phone_index, service_code) WHERE application_id IS NULL DO NOTHING
"""
# Lookups take the resident's blind indexes under every configured index key
# (CitizenSession.nik_search / phone_search): drafts keep the index they were
# made with, there being no clear value here to rotate them from.
OPEN_ONE = """
SELECT * FROM online_drafts
WHERE nik_index = ANY($1::bytea[]) AND phone_index = ANY($2::bytea[]) AND service_code = $3
  AND application_id IS NULL
ORDER BY created_at LIMIT 1
"""
# The owner's draft: a draft of another resident is not found.
OWN = """
SELECT * FROM online_drafts
WHERE id = $1 AND nik_index = ANY($2::bytea[]) AND phone_index = ANY($3::bytea[])
"""
OWN_OPEN = """
SELECT * FROM online_drafts
WHERE nik_index = ANY($1::bytea[]) AND phone_index = ANY($2::bytea[]) AND application_id IS NULL
ORDER BY updated_at DESC LIMIT 50
"""
SET_POINT = "UPDATE online_drafts SET pickup_point = $2, updated_at = $3 WHERE id = $1"
TOUCH = "UPDATE online_drafts SET updated_at = $2 WHERE id = $1"
SUBMITTED = "UPDATE online_drafts SET application_id = $2, updated_at = $3 WHERE id = $1"


async def open_draft(
    conn: asyncpg.Connection,
    *,
    nik_indexes: Sequence[bytes],
    phone_indexes: Sequence[bytes],
    service_code: str,
    created_by: str,
    at: datetime,
) -> asyncpg.Record:
    """The resident's open draft for the service, made (under the first, the
    active, index of each list) when there is none."""
    row = await conn.fetchrow(OPEN_ONE, list(nik_indexes), list(phone_indexes), service_code)
    if row is not None:
        return row
    await conn.execute(
        OPEN, uuid.uuid4(), nik_indexes[0], phone_indexes[0], service_code, created_by, at
    )
    row = await conn.fetchrow(OPEN_ONE, list(nik_indexes), list(phone_indexes), service_code)
    assert row is not None
    return row


async def own(
    conn: asyncpg.Connection,
    draft_id: uuid.UUID,
    nik_indexes: Sequence[bytes],
    phone_indexes: Sequence[bytes],
    *,
    lock: bool = False,
) -> asyncpg.Record | None:
    """The owner's draft (locked until the transaction ends with `lock`)."""
    query = OWN + (" FOR UPDATE" if lock else "")
    return await conn.fetchrow(query, draft_id, list(nik_indexes), list(phone_indexes))


async def own_open(
    conn: asyncpg.Connection | asyncpg.Pool,
    nik_indexes: Sequence[bytes],
    phone_indexes: Sequence[bytes],
) -> list[asyncpg.Record]:
    return list(await conn.fetch(OWN_OPEN, list(nik_indexes), list(phone_indexes)))


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
