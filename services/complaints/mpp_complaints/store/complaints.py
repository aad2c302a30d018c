"""SQL of the complaints table: a complaint as officers read it (with what
is known of the request it names), its lifecycle moves, filing, and the
public fields the Open311 facade may show."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from mpp_complaints.domain.lifecycle import Status
from mpp_complaints.domain.open311 import CLOSED_STATUSES, RequestFilter
from mpp_shared.transitions import Aggregate

COMPLAINT = Aggregate(
    table="complaints",
    noun=("Pengaduan", "The complaint"),
    missing=("Pengaduan tidak ditemukan", "Complaint not found"),
)

WITH_REQUEST = (
    "SELECT c.*, k.progress AS linked_request_progress, k.due_at AS linked_request_due_at, "
    "k.sla_breached_at, k.picked_up_at FROM complaints c "
    "LEFT JOIN known_requests k ON k.tracking_code = c.tracking_code WHERE c.id = $1"
)
INSERT = (
    "INSERT INTO complaints (id, complaint_code, category, description, channel, anonymous, "
    "status, tracking_code, application_id, reporter_enc, language, created_at, updated_at, "
    "confidential, reporter_phone_index, reporter_email_index, reporter_indexed, kind, "
    "publication_consent) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, true, "
    "$16, $17)"
)
CLOSE_AUTOMATICALLY = (
    "UPDATE complaints SET status = $2, closed_at = $3, closed_by = $4, step = NULL, "
    "step_due_at = NULL, version = version + 1, updated_at = $3 WHERE id = $1"
)
# Public fields only, never a confidential complaint. The lifecycle's columns
# are read through to_jsonb so that the query also runs on a schema before
# the migrations that added them.
PUBLIC_SELECT = (
    "SELECT c.complaint_code, c.category, c.description, c.status, c.created_at, c.updated_at, "
    "coalesce(to_jsonb(c) ->> 'kind', 'pengaduan') AS kind, to_jsonb(c) ->> 'opd' AS opd, to_jsonb(c) ->> 'step_due_at' AS step_due_at, "
    "to_jsonb(c) ->> 'rejection_reason' AS rejection_reason "
    "FROM complaints c "
    "WHERE coalesce((to_jsonb(c) ->> 'confidential')::boolean, false) = false "
)
# A search answers at most this many complaints, the newest first.
MAX_PUBLIC = 1000


async def with_request(conn: asyncpg.Connection, complaint_id: uuid.UUID) -> asyncpg.Record | None:
    """The complaint and what is known of the request it names."""
    return await conn.fetchrow(WITH_REQUEST, complaint_id)


async def lock(conn: asyncpg.Connection, complaint_id: uuid.UUID) -> asyncpg.Record | None:
    """The complaint's row, locked for the caller's transaction."""
    return await conn.fetchrow("SELECT * FROM complaints WHERE id = $1 FOR UPDATE", complaint_id)


async def record_extension(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, at: datetime, reason: str
) -> None:
    """A request for information's one extension (a new version)."""
    await conn.execute(
        "UPDATE complaints SET extended_at = $2, extension_reason = $3, updated_at = $2, "
        "version = version + 1 WHERE id = $1",
        complaint_id,
        at,
        reason,
    )


async def find(conn: asyncpg.Connection, complaint_id: uuid.UUID) -> asyncpg.Record | None:
    """The complaint's row, unlocked."""
    return await conn.fetchrow("SELECT * FROM complaints WHERE id = $1", complaint_id)


async def code_of_other(
    conn: asyncpg.Connection, other_id: uuid.UUID | None, complaint_id: uuid.UUID
) -> str | None:
    """The complaint code of `other_id` unless it is `complaint_id` itself."""
    code: str | None = await conn.fetchval(
        "SELECT complaint_code FROM complaints WHERE id = $1 AND id <> $2", other_id, complaint_id
    )
    return code


async def move(
    conn: asyncpg.Connection,
    complaint_id: uuid.UUID,
    target: Status,
    at: datetime,
    **columns: Any,
) -> None:
    """Set the status (a new version) and the lifecycle `columns` the move
    fills in; the column names are the caller's, never a request's."""
    sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(columns, start=4))
    await conn.execute(
        f"UPDATE complaints SET status = $2, updated_at = $3, version = version + 1"
        f"{', ' + sets if sets else ''} WHERE id = $1",
        complaint_id,
        target.value,
        at,
        *columns.values(),
    )


async def close_automatically(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, at: datetime, closed_by: str
) -> None:
    """Close a complaint and clear its step (the deadline that closes it has fired)."""
    await conn.execute(CLOSE_AUTOMATICALLY, complaint_id, Status.CLOSED.value, at, closed_by)


async def insert(
    conn: asyncpg.Connection,
    *,
    complaint_id: uuid.UUID,
    complaint_code: str,
    category: str,
    description: str,
    channel: str,
    anonymous: bool,
    tracking_code: str | None,
    application_id: uuid.UUID | None,
    reporter_enc: bytes | None,
    language: str,
    created_at: datetime,
    confidential: bool,
    reporter_phone_index: bytes | None = None,
    reporter_email_index: bytes | None = None,
    kind: str = "pengaduan",
    publication_consent: bool = False,
) -> None:
    """A newly filed complaint (received), with the blind indexes of its
    reporter's phone and e-mail (mpp_complaints.usecases.reporter_contact)."""
    await conn.execute(
        INSERT,
        complaint_id,
        complaint_code,
        category,
        description,
        channel,
        anonymous,
        Status.RECEIVED.value,
        tracking_code,
        application_id,
        reporter_enc,
        language,
        created_at,
        confidential,
        reporter_phone_index,
        reporter_email_index,
        kind,
        publication_consent,
    )


async def find_public(conn: asyncpg.Connection, wanted: RequestFilter) -> list[asyncpg.Record]:
    """The public complaints a search asks for, the newest first."""
    args: list[Any] = []
    where: list[str] = []
    if wanted.complaint_codes is not None:
        args.append(list(wanted.complaint_codes))
        where.append(f"c.complaint_code = ANY(${len(args)}::text[])")
    else:
        args += [wanted.start, wanted.end]
        where.append("c.created_at BETWEEN $1 AND $2")
        if wanted.categories is not None or wanted.kinds is not None:
            either = []
            if wanted.categories is not None:
                args.append(list(wanted.categories))
                either.append(f"(c.kind = 'pengaduan' AND c.category = ANY(${len(args)}::text[]))")
            if wanted.kinds is not None:
                args.append(list(wanted.kinds))
                either.append(f"c.kind = ANY(${len(args)}::text[])")
            where.append("(" + " OR ".join(either) + ")")
        if wanted.status is not None:
            args.append(list(CLOSED_STATUSES))
            closed = f"c.status = ANY(${len(args)}::text[])"
            where.append(closed if wanted.status == "closed" else f"NOT ({closed})")
    sql = (
        PUBLIC_SELECT
        + "".join(f"AND {w} " for w in where)
        + f"ORDER BY c.created_at DESC LIMIT {MAX_PUBLIC}"
    )
    rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
    return rows


async def public_by_code(conn: asyncpg.Connection, complaint_code: str) -> asyncpg.Record | None:
    """One public complaint by its code (None when unknown or confidential)."""
    return await conn.fetchrow(PUBLIC_SELECT + "AND c.complaint_code = $1", complaint_code)


# What the reporter's status page shows (by complaint code): never the
# reporter's contact, nor the description they wrote.
STATUS_BY_CODE = (
    "SELECT c.complaint_code, c.kind, c.category, cat.name_id AS category_name_id, "
    "cat.name_en AS category_name_en, c.status, c.step, c.step_due_at, c.opd, "
    "c.response_text, c.responded_at, c.rejection_reason, c.created_at, c.updated_at, "
    "c.extended_at, c.extension_reason, "
    "k.progress AS linked_request_progress FROM complaints c "
    "LEFT JOIN complaint_categories cat ON cat.code = c.category "
    "LEFT JOIN known_requests k ON k.tracking_code = c.tracking_code "
    "WHERE c.complaint_code = $1"
)


async def status_by_code(conn: asyncpg.Connection, complaint_code: str) -> asyncpg.Record | None:
    """The complaint's state as its reporter reads it (None when unknown)."""
    return await conn.fetchrow(STATUS_BY_CODE, complaint_code)
