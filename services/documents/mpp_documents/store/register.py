"""The register of issued documents on PostgreSQL: its counters and its
entries. Runs in the caller's transaction; what the numbers and codes look
like is in `mpp_documents.domain.register`, how they are issued without a gap
in `mpp_documents.usecases.register`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from mpp_documents.domain.register import IssuedDocument, normalise_code, normalise_number
from mpp_shared import paging

# The counter row of (type, office, year) is created or incremented, and
# stays locked until the caller's transaction ends.
NEXT_NUMBER = """
INSERT INTO register_counters AS c (doc_type, office, year, last) VALUES ($1, $2, $3, 1)
ON CONFLICT (doc_type, office, year) DO UPDATE SET last = c.last + 1
RETURNING last
"""
INSERT = """
INSERT INTO issued_documents (id, job_id, application_id, doc_type, office, year, seq, number,
    verification_code, holder_masked, issued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *
"""
BY_JOB = "SELECT * FROM issued_documents WHERE job_id = $1"
BY_CODE = "SELECT * FROM issued_documents WHERE verification_code = $1"
BY_ID = "SELECT * FROM issued_documents WHERE id = $1"
BY_NUMBER = "SELECT * FROM issued_documents WHERE number = $1"
BY_ID_OR_JOB = "SELECT * FROM issued_documents WHERE id = $1 OR job_id = $1"
REVOKE = """
UPDATE issued_documents SET revoked_at = $2, revoked_by = $3, revoke_reason = $4
WHERE id = $1 RETURNING *
"""

# The register searched: each filter applies when given ($1..$7), the point
# is the job's (where the document waits or waited); newest first.
_SEARCH_WHERE = """
FROM issued_documents d LEFT JOIN jobs j ON j.id = d.job_id
WHERE ($1::text IS NULL OR d.number = $1)
  AND ($2::text IS NULL OR left(d.number, length($2)) = $2)
  AND ($3::text IS NULL OR d.doc_type = $3)
  AND ($4::text IS NULL OR j.pickup_point = $4)
  AND ($5::timestamptz IS NULL OR d.issued_at >= $5)
  AND ($6::timestamptz IS NULL OR d.issued_at < $6)
  AND ($7::boolean IS NULL OR (d.revoked_at IS NOT NULL) = $7)
"""
SEARCH = (
    "SELECT d.*, j.pickup_point"
    + _SEARCH_WHERE
    + "ORDER BY d.issued_at DESC, d.id DESC LIMIT $8 OFFSET $9"
)
# The page after the entry ($9, $10) = (issued_at, id): keyset, an index
# range scan at any depth.
SEARCH_AFTER = (
    "SELECT d.*, j.pickup_point"
    + _SEARCH_WHERE
    + "  AND (d.issued_at, d.id) < ($9, $10)\nORDER BY d.issued_at DESC, d.id DESC LIMIT $8"
)
# The count reads the register alone (the job only for a point filter), so
# an index of the register can answer it without visiting the rows; up to one
# past paging.COUNT_CAP.
SEARCH_COUNT = paging.capped_count(
    _SEARCH_WHERE.replace(
        "FROM issued_documents d LEFT JOIN jobs j ON j.id = d.job_id",
        "FROM issued_documents d",
    ).replace(
        "($4::text IS NULL OR j.pickup_point = $4)",
        "($4::text IS NULL OR EXISTS (SELECT 1 FROM jobs j WHERE j.id = d.job_id"
        " AND j.pickup_point = $4))",
    )
)

# Constraint names a refused insert reports (migration 004).
UNIQUE_CODE = "issued_documents_verification_code_key"
UNIQUE_JOB = "issued_documents_job_id_key"


def document_of(row: Any) -> IssuedDocument:
    return IssuedDocument(**{k: row[k] for k in IssuedDocument.__dataclass_fields__})


def _found(row: asyncpg.Record | None) -> IssuedDocument | None:
    return None if row is None else document_of(row)


async def next_number(conn: asyncpg.Connection, *, doc_type: str, office: str, year: int) -> int:
    """The next sequence number of (doc_type, office, year), given back if the
    caller's transaction rolls back."""
    seq: int = await conn.fetchval(NEXT_NUMBER, doc_type, office, year)
    return seq


async def insert(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    application_id: uuid.UUID,
    doc_type: str,
    office: str,
    year: int,
    seq: int,
    number: str,
    verification_code: str,
    holder_masked: str,
    issued_at: datetime,
) -> IssuedDocument:
    row = await conn.fetchrow(
        INSERT,
        uuid.uuid4(),
        job_id,
        application_id,
        doc_type,
        office,
        year,
        seq,
        number,
        verification_code,
        holder_masked,
        issued_at,
    )
    return document_of(row)


async def find_by_job(conn: asyncpg.Connection, job_id: uuid.UUID) -> IssuedDocument | None:
    return _found(await conn.fetchrow(BY_JOB, job_id))


async def find_by_code(conn: asyncpg.Connection, code: str) -> IssuedDocument | None:
    """By verification code (normalised: case, hyphens and spaces do not matter)."""
    return _found(await conn.fetchrow(BY_CODE, normalise_code(code)))


def _as_id(number_or_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(number_or_id.strip())
    except ValueError:
        return None


async def find(
    conn: asyncpg.Connection, number_or_id: str, *, for_update: bool = False
) -> IssuedDocument | None:
    """By the register's id (a UUID) or by document number (case-insensitive)."""
    lock = " FOR UPDATE" if for_update else ""
    doc_id = _as_id(number_or_id)
    if doc_id is not None:
        return _found(await conn.fetchrow(BY_ID + lock, doc_id))
    return _found(await conn.fetchrow(BY_NUMBER + lock, normalise_number(number_or_id)))


async def find_for_print(conn: asyncpg.Connection, reference: str) -> IssuedDocument | None:
    """By the register's id, the job's id (both UUIDs) or the document number."""
    ref_id = _as_id(reference)
    if ref_id is not None:
        return _found(await conn.fetchrow(BY_ID_OR_JOB, ref_id))
    return _found(await conn.fetchrow(BY_NUMBER, normalise_number(reference)))


async def mark_revoked(
    conn: asyncpg.Connection, document_id: uuid.UUID, *, at: datetime, by: str, reason: str
) -> IssuedDocument:
    return document_of(await conn.fetchrow(REVOKE, document_id, at, by, reason))


@dataclass(frozen=True)
class RegisterQuery:
    """The filters of a register search, each None when not asked for; the
    number and prefix normalised, the moments a half-open range [since, before)."""

    number: str | None = None
    number_prefix: str | None = None
    doc_type: str | None = None
    pickup_point: str | None = None
    since: datetime | None = None
    before: datetime | None = None
    revoked: bool | None = None

    def args(self) -> tuple[Any, ...]:
        return (
            self.number,
            self.number_prefix,
            self.doc_type,
            self.pickup_point,
            self.since,
            self.before,
            self.revoked,
        )


async def search(
    conn: asyncpg.Connection,
    query: RegisterQuery,
    *,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[tuple[IssuedDocument, str | None]]:
    """One page of the entries `query` lets through, newest first, each with
    its job's pickup point: from `offset` on, or after the entry whose
    (issued_at, id) is `after`."""
    if after is not None:
        rows = await conn.fetch(SEARCH_AFTER, *query.args(), limit, *after)
    else:
        rows = await conn.fetch(SEARCH, *query.args(), limit, offset)
    return [(document_of(r), r["pickup_point"]) for r in rows]


# Numbers are issued without a gap (the counter and the entry in one
# savepoint) and entries are never deleted, so the counters hold how many
# entries each document type has: the register's size without reading it.
COUNT_FROM_COUNTERS = """
SELECT coalesce(sum(last), 0) FROM register_counters WHERE ($1::text IS NULL OR doc_type = $1)
"""


async def count(conn: asyncpg.Connection, query: RegisterQuery) -> tuple[int | None, bool]:
    """How many entries `query` lets through, and whether there are more: by
    type alone (or all of them) exactly, from the counters; else counted up
    to paging.COUNT_CAP."""
    if query == RegisterQuery(doc_type=query.doc_type):
        by_counters: int = await conn.fetchval(COUNT_FROM_COUNTERS, query.doc_type)
        return by_counters, False
    return paging.capped(await conn.fetchval(SEARCH_COUNT, *query.args()))
