"""SQL of a resident's requests about their data in complaints: the
complaints they filed (found by the blind indexes of the reporter's phone
and e-mail) or that name their applications, the correction of the
reporter's contact, and the filling of the reporter indexes of complaints
filed before those indexes existed (in batches, resumable)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

FIND = """
SELECT * FROM complaints
WHERE reporter_phone_index = ANY($1::bytea[]) OR reporter_email_index = ANY($2::bytea[])
   OR tracking_code = ANY($3::text[]) OR application_id = ANY($4::uuid[])
ORDER BY created_at, id
"""
FIND_BY_REPORTER_FOR_UPDATE = """
SELECT id, reporter_enc FROM complaints
WHERE reporter_enc IS NOT NULL
  AND (reporter_phone_index = ANY($1::bytea[]) OR reporter_email_index = ANY($2::bytea[]))
ORDER BY id FOR UPDATE
"""
SET_REPORTER = """
UPDATE complaints SET reporter_enc = $2, reporter_phone_index = $3, reporter_email_index = $4,
    reporter_indexed = true, version = version + 1, updated_at = $5
WHERE id = $1
"""
NOT_INDEXED = """
SELECT id, reporter_enc FROM complaints
WHERE NOT reporter_indexed AND id > $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
"""
COUNT_NOT_INDEXED = "SELECT count(*) FROM complaints WHERE NOT reporter_indexed"
# Compare-and-set: a row whose contact changed since it was read is left to the next run.
SET_INDEXES = """
UPDATE complaints AS c SET reporter_phone_index = v.phone, reporter_email_index = v.email,
    reporter_indexed = true
FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[]) AS v(id, enc, phone, email)
WHERE c.id = v.id AND c.reporter_enc IS NOT DISTINCT FROM v.enc AND NOT c.reporter_indexed
"""


async def find(
    conn: asyncpg.Connection,
    *,
    phone_indexes: Sequence[bytes],
    email_indexes: Sequence[bytes],
    tracking_codes: Sequence[str],
    application_ids: Sequence[uuid.UUID],
) -> list[asyncpg.Record]:
    """The complaints filed with one of these contacts or naming one of these requests."""
    return list(
        await conn.fetch(
            FIND,
            list(phone_indexes),
            list(email_indexes),
            list(tracking_codes),
            list(application_ids),
        )
    )


async def reporters_for_update(
    conn: asyncpg.Connection, phone_indexes: Sequence[bytes], email_indexes: Sequence[bytes]
) -> list[asyncpg.Record]:
    """The complaints whose reporter used one of these contacts, locked."""
    return list(
        await conn.fetch(FIND_BY_REPORTER_FOR_UPDATE, list(phone_indexes), list(email_indexes))
    )


async def set_reporter(
    conn: asyncpg.Connection,
    complaint_id: uuid.UUID,
    *,
    reporter_enc: bytes,
    phone_index: bytes | None,
    email_index: bytes | None,
    at: object,
) -> None:
    await conn.execute(SET_REPORTER, complaint_id, reporter_enc, phone_index, email_index, at)


async def not_indexed(
    conn: asyncpg.Connection, after: uuid.UUID, limit: int
) -> list[asyncpg.Record]:
    """The next complaints (by id) whose reporter indexes were never written."""
    return list(await conn.fetch(NOT_INDEXED, after, limit))


async def count_not_indexed(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    return int(await conn.fetchval(COUNT_NOT_INDEXED))


async def set_indexes(
    conn: asyncpg.Connection,
    rows: Sequence[tuple[uuid.UUID, bytes | None, bytes | None, bytes | None]],
) -> int:
    """(id, reporter_enc as read, phone index, e-mail index) per row: the rows updated."""
    if not rows:
        return 0
    status: str = await conn.execute(
        SET_INDEXES,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )
    return int(status.rsplit(" ", 1)[-1])
