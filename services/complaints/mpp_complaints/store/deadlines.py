"""SQL of the steps' deadlines: one `complaint_deadlines` row per step a
complaint enters (fired at most once, cancelled when the step ends first),
and the complaint's own copy of its running step (`step`, `step_due_at`)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from mpp_complaints.domain.lifecycle import Step

CANCEL_RUNNING = (
    "UPDATE complaint_deadlines SET cancelled_at = $2 "
    "WHERE complaint_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL"
)
INSERT = (
    "INSERT INTO complaint_deadlines (id, complaint_id, step, opd, started_at, due_at, "
    "traceparent, tracestate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
# The due timers and their complaints, locked together; a timer held by
# another scheduler, or whose complaint a request is changing, is skipped.
CLAIM_DUE = """
SELECT d.id, d.complaint_id, d.step, d.opd, d.due_at, d.traceparent, d.tracestate,
       c.complaint_code, c.category, c.kind, c.status, c.opd AS complaint_opd
FROM complaint_deadlines d JOIN complaints c ON c.id = d.complaint_id
WHERE d.fired_at IS NULL AND d.cancelled_at IS NULL AND d.due_at <= $1
ORDER BY d.due_at
LIMIT $2
FOR UPDATE OF d, c SKIP LOCKED
"""
NEXT_DUE = """
SELECT least(
    (SELECT min(due_at) FROM complaint_deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL),
    (SELECT min(created_at) FROM complaints
     WHERE step IS NULL AND status IN ('received', 'verified'))
)
"""
# Complaints filed (by any route: JSON, Open311, before the lifecycle existed)
# whose verification step has not started yet.
CLAIM_UNSCHEDULED = """
SELECT id, category, kind, created_at FROM complaints
WHERE step IS NULL AND status IN ('received', 'verified')
ORDER BY created_at
LIMIT $1
FOR UPDATE SKIP LOCKED
"""


async def cancel_running_step(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, at: datetime
) -> None:
    """Cancel the running step's timer and clear the complaint's step."""
    await conn.execute(CANCEL_RUNNING, complaint_id, at)
    await conn.execute(
        "UPDATE complaints SET step = NULL, step_due_at = NULL WHERE id = $1", complaint_id
    )


async def insert_step(
    conn: asyncpg.Connection,
    *,
    complaint_id: uuid.UUID,
    step: Step,
    opd: str | None,
    started_at: datetime,
    due_at: datetime,
    traceparent: str | None,
    tracestate: str | None,
) -> None:
    """The step's timer and the complaint's copy of its running step."""
    await conn.execute(
        INSERT,
        uuid.uuid4(),
        complaint_id,
        step.value,
        opd,
        started_at,
        due_at,
        traceparent,
        tracestate,
    )
    await conn.execute(
        "UPDATE complaints SET step = $2, step_due_at = $3 WHERE id = $1",
        complaint_id,
        step.value,
        due_at,
    )


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(CLAIM_DUE, now, limit)
    return rows


async def claim_unscheduled(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(CLAIM_UNSCHEDULED, limit)
    return rows


async def mark_fired(conn: asyncpg.Connection, deadline_id: uuid.UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE complaint_deadlines SET fired_at = $2 WHERE id = $1", deadline_id, at
    )


async def move_running_due(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, due_at: datetime
) -> None:
    """Move the running step's deadline (an extension; the caller holds the
    complaint's lock): its timer and the complaint's copy."""
    await conn.execute(
        "UPDATE complaint_deadlines SET due_at = $2 "
        "WHERE complaint_id = $1 AND fired_at IS NULL AND cancelled_at IS NULL",
        complaint_id,
        due_at,
    )
    await conn.execute("UPDATE complaints SET step_due_at = $2 WHERE id = $1", complaint_id, due_at)
