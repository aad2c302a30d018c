"""Production jobs and their history: the rows a verified application
becomes and every move they make. Runs in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from mpp_shared.transitions import Aggregate

# How `begin_transition` locks and names a job (SELECT * ... FOR UPDATE).
JOBS = Aggregate(
    table="jobs",
    noun=("Pekerjaan", "The job"),
    missing=("Pekerjaan tidak ditemukan", "Job not found"),
    state_column="state",
)

# One statement per filter given, so each is planned on its own index (a
# `$n IS NULL OR ...` shape is planned for any value, and by state that was a
# read of every job in the state, e.g. every document ever left uncollected).
LIST = {
    (False, False): "SELECT * FROM jobs ORDER BY created_at DESC LIMIT $1",
    (True, False): "SELECT * FROM jobs WHERE application_id = $1 ORDER BY created_at DESC LIMIT $2",
    (False, True): "SELECT * FROM jobs WHERE state = $1 ORDER BY created_at DESC LIMIT $2",
    (True, True): "SELECT * FROM jobs WHERE application_id = $1 AND state = $2 "
    "ORDER BY created_at DESC LIMIT $3",
}
GET = "SELECT * FROM jobs WHERE id = $1"
INSERT_QUEUED = """
INSERT INTO jobs (id, application_id, tracking_code, service_code, state, pickup_point,
                  due_at, holder_masked, holder_nik_check, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
ON CONFLICT (application_id) DO NOTHING
RETURNING true
"""
# One statement for every move: a column a move does not set keeps its value
# (coalesce), the moments of ready and picked up are stamped by the state.
MOVE = """
UPDATE jobs SET state = $2, pickup_point = coalesce($3, pickup_point),
    held_from = $4, hold_reason_code = $5, hold_note = $6,
    cancel_reason = coalesce($7, cancel_reason),
    ready_at = CASE WHEN $2 = 'ready_for_pickup' THEN $8 ELSE ready_at END,
    picked_up_at = CASE WHEN $2 = 'picked_up' THEN $8 ELSE picked_up_at END,
    collected_by = coalesce($9, collected_by),
    representative_masked = coalesce($10, representative_masked),
    authority_letter_ref = coalesce($11, authority_letter_ref),
    version = version + 1, updated_at = $8
WHERE id = $1 RETURNING *
"""
SET_DOCUMENT = """
UPDATE jobs SET document_number = $2, verification_code = $3, document_id = $4
WHERE id = $1 RETURNING *
"""
ADD_HISTORY = """
INSERT INTO job_history (job_id, from_state, to_state, actor, at, note)
VALUES ($1, $2, $3, $4, $5, $6)
"""


async def list_jobs(
    conn: asyncpg.Connection,
    *,
    application_id: uuid.UUID | None,
    state: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Newest first, by application and / or state when given."""
    given = [a for a in (application_id, state) if a is not None]
    statement = LIST[(application_id is not None, state is not None)]
    rows: list[asyncpg.Record] = await conn.fetch(statement, *given, limit)
    return rows


async def get(conn: asyncpg.Connection, job_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(GET, job_id)
    return row


async def insert_queued(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    application_id: uuid.UUID,
    tracking_code: str,
    service_code: str,
    state: str,
    pickup_point: str | None,
    due_at: datetime | None,
    holder_masked: str | None,
    holder_nik_check: str | None,
    at: datetime,
) -> bool:
    """A new job; False when the application already has one (a redelivered event)."""
    created = await conn.fetchval(
        INSERT_QUEUED,
        job_id,
        application_id,
        tracking_code,
        service_code,
        state,
        pickup_point,
        due_at,
        holder_masked,
        holder_nik_check,
        at,
    )
    return bool(created)


async def move(
    conn: asyncpg.Connection,
    job_id: uuid.UUID,
    *,
    state: str,
    at: datetime,
    pickup_point: str | None = None,
    held_from: str | None = None,
    hold_reason_code: str | None = None,
    hold_note: str | None = None,
    cancel_reason: str | None = None,
    collected_by: str | None = None,
    representative_masked: str | None = None,
    authority_letter_ref: str | None = None,
) -> asyncpg.Record:
    """The job in its new state, its version one higher (a hold's fields are
    cleared by any move that does not set them)."""
    row: asyncpg.Record = await conn.fetchrow(
        MOVE,
        job_id,
        state,
        pickup_point,
        held_from,
        hold_reason_code,
        hold_note,
        cancel_reason,
        at,
        collected_by,
        representative_masked,
        authority_letter_ref,
    )
    return row


async def set_document(
    conn: asyncpg.Connection,
    job_id: uuid.UUID,
    *,
    number: str,
    verification_code: str,
    document_id: uuid.UUID,
) -> asyncpg.Record:
    """Record the issued document's number, code and register id on the job."""
    row: asyncpg.Record = await conn.fetchrow(
        SET_DOCUMENT, job_id, number, verification_code, document_id
    )
    return row


async def add_history(
    conn: asyncpg.Connection,
    job_id: uuid.UUID,
    *,
    from_state: str | None,
    to_state: str,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> None:
    await conn.execute(ADD_HISTORY, job_id, from_state, to_state, actor, at, note)
