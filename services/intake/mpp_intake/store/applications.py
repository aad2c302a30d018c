"""SQL of applications and their timeline (the steps public tracking shows).

An application is read with the names and fee of the catalog version it was
submitted under (`SELECT`). One resident has at most one active application
per service: the unique index decides, race-free, at insert time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

from mpp_shared import paging
from mpp_shared.sql_rows import Row, with_rows
from mpp_shared.transitions import Aggregate

SELECT = """
SELECT a.*, v.name_id AS service_name_id, v.name_en AS service_name_en, v.fee_idr
FROM applications a
JOIN catalog_service_versions v ON v.code = a.service_code AND v.version = a.catalog_version
"""
APPLICATIONS = Aggregate(
    table="applications",
    noun=("Permohonan", "The application"),
    missing=("Permohonan tidak ditemukan", "Application not found"),
    lock_query=SELECT + " WHERE a.id = $1 FOR UPDATE OF a",
)

# The application and the first step of its timeline, in one round trip. A
# second active application for the same NIK and service inserts nothing
# (no error, so the caller's transaction stays usable to say which one).
NEW_APPLICATION = """
application AS (
    INSERT INTO applications (
        id, tracking_code, service_code, channel, status, progress,
        nik_enc, nik_index, nik_masked, name_enc, name_masked, phone_enc, email_enc,
        language, preferred_channel, pickup_point, submitted_by, counter, created_at, updated_at,
        catalog_version, documents, missing, domicile_region, expected_ready_at
    ) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12,
              $13, $14, $15, $16, $17, $18, $18, $19, $20, $21, $22, $23)
    ON CONFLICT (nik_index, service_code) WHERE active DO NOTHING
    RETURNING id
),
first_step AS (
    INSERT INTO application_timeline (application_id, step, at, pickup_point, source_event_id)
    SELECT id, $5, $18, $15, $24 FROM application
)
"""
FIRST_ACTIVE = (
    "SELECT tracking_code FROM applications WHERE nik_index = ANY($1::bytea[]) "
    "AND service_code = $2 AND active"
)
ADD_STEP = """
INSERT INTO application_timeline (application_id, step, at, pickup_point, source_event_id)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_event_id) DO NOTHING
"""
RECORD_PAPERS = """
UPDATE applications SET status = $2, progress = $3, documents = $4, missing = $5,
    returned_items = $6, expected_ready_at = $7, version = version + 1, updated_at = $8
WHERE id = $1
"""
RECORD_DECISION = """
UPDATE applications
SET status = $2, progress = $2, decision_reason = $3, checks = checks || $4::jsonb,
    returned_items = $5, reason_codes = $6, active = $7,
    version = version + 1, updated_at = $8
WHERE id = $1
"""
_PAGE_WHERE = """
WHERE ($1::text IS NULL OR a.status = $1) AND ($2::text IS NULL OR a.channel = $2)
  AND ($3::text IS NULL OR a.pickup_point = $3) AND ($4::text IS NULL OR a.service_code = $4)
  AND ($5::timestamptz IS NULL OR a.created_at >= $5)
  AND ($6::timestamptz IS NULL OR a.created_at < $6)
"""
# Newest first, ties by id: the order the listing's keyset (cursor) follows.
PAGE_ORDER = "ORDER BY a.created_at DESC, a.id DESC"
# A page by OFFSET (the first page: OFFSET 0).
PAGE = SELECT + _PAGE_WHERE + PAGE_ORDER + " LIMIT $7 OFFSET $8"
# How many applications the filters let through, up to one past the cap
# (mpp_shared.paging.COUNT_CAP); asked for without a cursor only.
PAGE_COUNT = paging.capped_count("FROM applications a" + _PAGE_WHERE)
# The page after the row ($8, $9) = (created_at, id): an index range scan at
# any depth; no total (counting every match would cost what OFFSET did).
PAGE_AFTER = (
    SELECT + _PAGE_WHERE + "  AND (a.created_at, a.id) < ($8, $9)\n" + PAGE_ORDER + " LIMIT $7"
)
# Blind-index lookups take every configured index version (FieldCipher.blind_indexes).
BY_NIK = SELECT + " WHERE a.nik_index = ANY($1::bytea[]) ORDER BY a.created_at DESC LIMIT $2"
FOR_TRACKING = """
SELECT a.id, a.tracking_code, a.service_code, a.status, a.progress, a.pickup_point,
       a.expected_ready_at, a.missing, a.returned_items, a.hold_reason, v.name_id, v.name_en
FROM applications a
JOIN catalog_service_versions v ON v.code = a.service_code AND v.version = a.catalog_version
WHERE a.tracking_code = $1
"""
TIMELINE = (
    "SELECT step, at, pickup_point FROM application_timeline "
    "WHERE application_id = $1 ORDER BY at, id"
)
# How many of the actions `$2` the audit trail holds for the application `$1`
# (e.g. the prints of its receipt); the trail is the one record of them.
AUDITED = """
SELECT count(*) FROM audit_log
WHERE target_type = 'application' AND target_id = $1::text AND action = ANY($2::text[])
"""
LOCK_PROGRESS = "SELECT progress FROM applications WHERE id = $1 FOR UPDATE"
# A handed-over or cancelled document ends the application: the NIK may apply again.
RECORD_PROGRESS = """
UPDATE applications SET progress = $2, pickup_point = coalesce($3, pickup_point),
    hold_reason = $4, active = active AND $2 NOT IN ('picked_up', 'cancelled'),
    expected_ready_at = coalesce(expected_ready_at, $5), updated_at = now()
WHERE id = $1
"""


@dataclass(frozen=True)
class NewApplication:
    """The columns of a new application, in the order of `NEW_APPLICATION`
    ($1 to $23)."""

    id: uuid.UUID
    tracking_code: str
    service_code: str
    channel: str
    status: str  # also the first progress step and the first timeline step
    nik_enc: bytes
    nik_index: bytes
    nik_masked: str
    name_enc: bytes
    name_masked: str
    phone_enc: bytes | None
    email_enc: bytes | None
    language: str
    preferred_channel: str | None
    pickup_point: str
    submitted_by: str
    counter: str | None
    created_at: datetime
    catalog_version: int
    documents: list[str]
    missing: list[dict[str, str]]
    domicile_region: str
    expected_ready_at: datetime | None

    def columns(self) -> tuple[Any, ...]:
        """The values in column order, not copied (`dataclasses.astuple`
        deep-copies every list and dict on the request's path)."""
        return tuple(getattr(self, name) for name in _NEW_APPLICATION_COLUMNS)

    def as_dict(self) -> dict[str, Any]:
        """The columns by name, not copied (see `columns`)."""
        return dict(zip(_NEW_APPLICATION_COLUMNS, self.columns(), strict=True))


_NEW_APPLICATION_COLUMNS = tuple(f.name for f in fields(NewApplication))


async def insert_with_first_step(
    conn: asyncpg.Connection,
    new: NewApplication,
    *,
    first_event_id: uuid.UUID,
    along: Sequence[Row] = (),
) -> bool:
    """The application and its first timeline step, which comes from the event
    `first_event_id`, and the rows `along` with them (its audit entry, its
    event), in one statement. False when the resident already has an active
    application for the service: nothing is written and the transaction stays
    usable."""
    sql, args = with_rows(
        NEW_APPLICATION,
        [*new.columns(), first_event_id],
        along,
        when="application",
        final="SELECT count(*) FROM application",
    )
    return bool(await conn.fetchval(sql, *args))


async def first_active_tracking_code(
    conn: asyncpg.Connection, nik_indexes: Sequence[bytes], service_code: str
) -> str | None:
    code: str | None = await conn.fetchval(FIRST_ACTIVE, list(nik_indexes), service_code)
    return code


async def fetch(
    conn: asyncpg.Connection | asyncpg.Pool, application_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(SELECT + " WHERE a.id = $1", application_id)


async def add_step(
    conn: asyncpg.Connection,
    application_id: uuid.UUID,
    step: str,
    at: datetime,
    pickup_point: str | None,
    source_event_id: uuid.UUID,
) -> None:
    """A step of the timeline; a step from an event already recorded is skipped."""
    await conn.execute(ADD_STEP, application_id, step, at, pickup_point, source_event_id)


async def record_papers(
    conn: asyncpg.Connection,
    application_id: uuid.UUID,
    *,
    status: str,
    progress: str,
    documents: list[str],
    missing: list[dict[str, str]],
    returned_items: list[dict[str, Any]],
    expected_ready_at: datetime | None,
    at: datetime,
) -> None:
    await conn.execute(
        RECORD_PAPERS,
        application_id,
        status,
        progress,
        documents,
        missing,
        returned_items,
        expected_ready_at,
        at,
    )


async def record_decision(
    conn: asyncpg.Connection,
    application_id: uuid.UUID,
    *,
    status: str,
    reason: str | None,
    checks: list[dict[str, Any]],
    returned_items: list[dict[str, Any]],
    reason_codes: list[str],
    active: bool,
    at: datetime,
) -> None:
    """The verifier's decision; `checks` are added to those of earlier decisions."""
    await conn.execute(
        RECORD_DECISION,
        application_id,
        status,
        reason,
        checks,
        returned_items,
        reason_codes,
        active,
        at,
    )


async def page(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    status: str | None,
    channel: str | None,
    pickup_point: str | None,
    service_code: str | None,
    since: datetime | None,
    before: datetime | None,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[asyncpg.Record]:
    """Newest first: from `offset` on, or after the row whose (created_at,
    id) is `after` (keyset)."""
    filters = (status, channel, pickup_point, service_code, since, before, limit)
    if after is not None:
        return list(await conn.fetch(PAGE_AFTER, *filters, *after))
    return list(await conn.fetch(PAGE, *filters, offset))


async def count(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    status: str | None,
    channel: str | None,
    pickup_point: str | None,
    service_code: str | None,
    since: datetime | None,
    before: datetime | None,
) -> int:
    """How many applications the filters of `page` let through, counted up
    to one past mpp_shared.paging.COUNT_CAP."""
    total: int = await conn.fetchval(
        PAGE_COUNT, status, channel, pickup_point, service_code, since, before
    )
    return total


async def by_nik(
    conn: asyncpg.Connection | asyncpg.Pool, nik_indexes: Sequence[bytes], limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(BY_NIK, list(nik_indexes), limit))


async def for_tracking(
    conn: asyncpg.Connection | asyncpg.Pool, tracking_code: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(FOR_TRACKING, tracking_code)


async def timeline(
    conn: asyncpg.Connection | asyncpg.Pool, application_id: uuid.UUID
) -> list[asyncpg.Record]:
    return list(await conn.fetch(TIMELINE, application_id))


async def lock(conn: asyncpg.Connection, application_id: uuid.UUID) -> asyncpg.Record | None:
    """The application row (as `SELECT` reads it), locked until the transaction ends."""
    return await conn.fetchrow(APPLICATIONS.lock_query, application_id)


async def audited(conn: asyncpg.Connection, application_id: uuid.UUID, actions: list[str]) -> int:
    """How many entries of `actions` the audit trail holds for the application."""
    count: int = await conn.fetchval(AUDITED, str(application_id), actions)
    return count


async def lock_progress(conn: asyncpg.Connection, application_id: uuid.UUID) -> str | None:
    """The progress step of the application, its row locked; None when unknown."""
    row = await conn.fetchrow(LOCK_PROGRESS, application_id)
    return None if row is None else str(row["progress"])


async def record_progress(
    conn: asyncpg.Connection,
    application_id: uuid.UUID,
    *,
    progress: str,
    pickup_point: str | None,
    hold_reason: dict[str, str] | None,
    due_at: datetime | None,
) -> None:
    await conn.execute(RECORD_PROGRESS, application_id, progress, pickup_point, hold_reason, due_at)
