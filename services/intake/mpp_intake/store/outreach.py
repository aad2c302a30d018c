"""SQL of outreach lists ("jemput bola") and their entries.

An uploaded list holds a resident on one workable entry per service at a
time (open, visited, not_home): the unique index decides, at insert and when
an entry goes back to a workable status. An entry may instead come from a
village's report (`report_id`, store/population.py): those are always made.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from mpp_shared.transitions import Aggregate

ENTRY_SELECT = """
SELECT e.*, l.name AS list_name, r.kind AS report_kind, v.name_id AS service_name_id, v.name_en AS service_name_en
FROM outreach_entries e
LEFT JOIN outreach_lists l ON l.id = e.list_id
LEFT JOIN population_reports r ON r.id = e.report_id
LEFT JOIN catalog_services s ON s.code = e.service_code
LEFT JOIN catalog_service_versions v ON v.code = s.code AND v.version = s.current_version
"""
ENTRIES = Aggregate(
    table="outreach_entries",
    noun=("Entri jemput bola", "The outreach entry"),
    missing=("Entri jemput bola tidak ditemukan", "Outreach entry not found"),
    lock_query=ENTRY_SELECT + " WHERE e.id = $1 FOR UPDATE OF e",
)
ENTRY_PAGE = (
    ENTRY_SELECT.replace("SELECT e.*", "SELECT count(*) OVER () AS total, e.*")
    + """
WHERE ($1::text IS NULL OR e.desa_code = $1)
  AND ($2::text IS NULL OR e.kecamatan_code = $2)
  AND ($3::text IS NULL OR e.status = $3)
  AND ($4::text IS NULL OR e.service_code = $4)
  AND ($5::uuid IS NULL OR e.list_id = $5)
  AND ($6::uuid IS NULL OR e.report_id = $6)
ORDER BY e.created_at, e.list_id, e.line, e.id
LIMIT $7 OFFSET $8
"""
)
INSERT_LIST = """
INSERT INTO outreach_lists (id, name, uploaded_by, counter, uploaded_at,
    rows_total, rows_accepted, rows_rejected)
VALUES ($1, $2, $3, $4, $5, $6, 0, 0)
"""
# Every good row in one statement; a resident already on a workable entry for
# the same service is skipped (and reported), never listed twice.
INSERT_ENTRIES = """
INSERT INTO outreach_entries (
    id, list_id, line, desa_code, nik_enc, nik_index, nik_masked, name_enc, name_masked,
    phone_enc, phone_masked, address, service_code, created_at, updated_at
)
SELECT u.id, $1, u.line, u.desa_code, u.nik_enc, u.nik_index, u.nik_masked, u.name_enc,
       u.name_masked, u.phone_enc, u.phone_masked, u.address, u.service_code, $2, $2
FROM unnest($3::uuid[], $4::int[], $5::text[], $6::bytea[], $7::bytea[], $8::text[],
            $9::bytea[], $10::text[], $11::bytea[], $12::text[], $13::text[], $14::text[])
    AS u(id, line, desa_code, nik_enc, nik_index, nik_masked, name_enc, name_masked,
         phone_enc, phone_masked, address, service_code)
ON CONFLICT (nik_index, service_code)
    WHERE status IN ('open', 'visited', 'not_home') AND list_id IS NOT NULL
DO NOTHING
RETURNING line
"""
# The number of columns of `INSERT_ENTRIES` given one list each ($3 on).
ENTRY_COLUMNS = 12
COUNT_LIST = """
UPDATE outreach_lists SET rows_accepted = $2, rows_rejected = $3, rejected_rows = $4
WHERE id = $1 RETURNING *
"""
LIST = "SELECT * FROM outreach_lists WHERE id = $1"
RECORD_FOLLOW_UP = """
UPDATE outreach_entries SET status = $2, follow_ups = follow_ups || $3::jsonb,
    version = version + 1, updated_at = $4
WHERE id = $1
"""
MARK_APPLIED = """
UPDATE outreach_entries SET status = 'applied', application_id = $2,
    tracking_code = $3, version = version + 1, updated_at = $4
WHERE id = $1
"""


async def insert_list(
    conn: asyncpg.Connection,
    list_id: uuid.UUID,
    *,
    name: str,
    uploaded_by: str,
    counter: str | None,
    uploaded_at: datetime,
    rows_total: int,
) -> None:
    """The list, counted as nothing accepted until `count_list`."""
    await conn.execute(INSERT_LIST, list_id, name, uploaded_by, counter, uploaded_at, rows_total)


async def insert_entries(
    conn: asyncpg.Connection, list_id: uuid.UUID, at: datetime, columns: list[list[Any]]
) -> set[int]:
    """The lines stored; a line left out holds a resident already listed."""
    assert len(columns) == ENTRY_COLUMNS
    return {r["line"] for r in await conn.fetch(INSERT_ENTRIES, list_id, at, *columns)}


async def count_list(
    conn: asyncpg.Connection,
    list_id: uuid.UUID,
    *,
    accepted: int,
    rejected: int,
    rejected_rows: list[dict[str, Any]],
) -> asyncpg.Record:
    """The list's counts and refused rows once its entries are stored; the list."""
    row: asyncpg.Record = await conn.fetchrow(
        COUNT_LIST, list_id, accepted, rejected, rejected_rows
    )
    return row


async def fetch_list(
    conn: asyncpg.Connection | asyncpg.Pool, list_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(LIST, list_id)


async def fetch_entry(
    conn: asyncpg.Connection | asyncpg.Pool, entry_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(ENTRY_SELECT + " WHERE e.id = $1", entry_id)


async def entry_page(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    desa_code: str | None,
    kecamatan_code: str | None,
    status: str | None,
    service_code: str | None,
    list_id: uuid.UUID | None,
    report_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """Oldest first, in the order of the uploaded files; each row carries the
    `total` of rows matching."""
    return list(
        await conn.fetch(
            ENTRY_PAGE,
            desa_code,
            kecamatan_code,
            status,
            service_code,
            list_id,
            report_id,
            limit,
            offset,
        )
    )


async def record_follow_up(
    conn: asyncpg.Connection,
    entry_id: uuid.UUID,
    *,
    status: str,
    follow_up: dict[str, Any],
    at: datetime,
) -> None:
    """The visit's outcome becomes the entry's status. Raises
    UniqueViolationError when a workable status would list the resident twice."""
    await conn.execute(RECORD_FOLLOW_UP, entry_id, status, [follow_up], at)


async def mark_applied(
    conn: asyncpg.Connection,
    entry_id: uuid.UUID,
    *,
    application_id: uuid.UUID,
    tracking_code: str,
    at: datetime,
) -> None:
    await conn.execute(MARK_APPLIED, entry_id, application_id, tracking_code, at)
