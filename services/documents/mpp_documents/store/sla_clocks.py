"""SLA clocks on PostgreSQL: starting, stopping, claiming the due ones and
marking what fired. Runs in the caller's transaction; the marks commit with
the events the caller writes to the outbox, which is what makes each fire
exactly once (`mpp_documents.usecases.sla_clock`)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

# The only kind of subject documents runs clocks for.
SUBJECT_JOB = "job"

START = """
INSERT INTO sla_clocks (id, subject_type, subject_id, application_id, tracking_code,
                        service_code, pickup_point, started_at, due_at, warn_share, warn_at,
                        traceparent, tracestate)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (subject_type, subject_id) DO NOTHING
RETURNING true
"""
STOP = """
UPDATE sla_clocks SET stopped_at = $3, stop_reason = $4
WHERE subject_type = $1 AND subject_id = $2 AND stopped_at IS NULL
RETURNING true
"""
# Both arms are served by the partial indexes; the outer conditions are
# re-checked on the newest row version once locked, so a row another
# instance has just marked or a clock just stopped is not fired again.
# The candidates come from the two partial indexes, each read by its own
# moment (an OR of the two conditions is planned as a scan of every clock,
# running or not); the conditions are asked again of each locked row, so a
# clock another scheduler fired meanwhile is left out.
CLAIM_DUE = """
SELECT id, subject_type, subject_id, application_id, tracking_code, service_code,
       pickup_point, started_at, due_at, warn_share, warn_at, warned_at, breached_at,
       traceparent, tracestate
FROM sla_clocks
WHERE id IN (
    (SELECT id FROM sla_clocks WHERE warned_at IS NULL AND stopped_at IS NULL AND warn_at <= $1
     ORDER BY warn_at LIMIT $2)
    UNION ALL
    (SELECT id FROM sla_clocks WHERE breached_at IS NULL AND stopped_at IS NULL AND due_at <= $1
     ORDER BY due_at LIMIT $2)
)
  AND stopped_at IS NULL
  AND ((warned_at IS NULL AND warn_at <= $1) OR (breached_at IS NULL AND due_at <= $1))
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
MARK_WARNED = "UPDATE sla_clocks SET warned_at = $1 WHERE id = ANY($2::uuid[])"
MARK_BREACHED = "UPDATE sla_clocks SET breached_at = $1 WHERE id = ANY($2::uuid[])"
# Two index lookups (min over each partial index); NULL when nothing is pending.
NEXT_DUE = """
SELECT least(
    (SELECT min(warn_at) FROM sla_clocks WHERE warned_at IS NULL AND stopped_at IS NULL),
    (SELECT min(due_at) FROM sla_clocks WHERE breached_at IS NULL AND stopped_at IS NULL)
)
"""


async def insert_clock(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    application_id: uuid.UUID,
    tracking_code: str,
    service_code: str,
    pickup_point: str | None,
    started_at: datetime,
    due_at: datetime,
    share: float,
    warn_at: datetime,
    traceparent: str | None,
    tracestate: str | None,
) -> bool:
    """False when the job already has a clock: the first one stands."""
    created = await conn.fetchval(
        START,
        uuid.uuid4(),
        SUBJECT_JOB,
        job_id,
        application_id,
        tracking_code,
        service_code,
        pickup_point,
        started_at,
        due_at,
        share,
        warn_at,
        traceparent,
        tracestate,
    )
    return bool(created)


async def stop(conn: asyncpg.Connection, job_id: uuid.UUID, *, reason: str, at: datetime) -> bool:
    """False when the job has no running clock."""
    return bool(await conn.fetchval(STOP, SUBJECT_JOB, job_id, at, reason))


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Up to `limit` running clocks with a warning or a breach due, locked;
    clocks another transaction holds are passed over."""
    rows: list[asyncpg.Record] = await conn.fetch(CLAIM_DUE, now, limit)
    return rows


async def mark_warned(conn: asyncpg.Connection, now: datetime, clock_ids: list[uuid.UUID]) -> None:
    await conn.execute(MARK_WARNED, now, clock_ids)


async def mark_breached(
    conn: asyncpg.Connection, now: datetime, clock_ids: list[uuid.UUID]
) -> None:
    await conn.execute(MARK_BREACHED, now, clock_ids)
