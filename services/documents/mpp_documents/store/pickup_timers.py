"""Pickup windows on PostgreSQL: the timers of each window, opening and
closing them, claiming the jobs with a timer due and marking what fired.
Runs in the caller's transaction; the marks commit with the events the
caller writes to the outbox (`mpp_documents.usecases.pickup_window`)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from mpp_documents.domain.pickup_window import TimerKind, TimerOutcome

OPEN = """
INSERT INTO pickup_timers (id, job_id, kind, seq, ready_at, fire_at, window_ends_at,
                           traceparent, tracestate)
SELECT t.id, $1, t.kind, t.seq, $2, t.fire_at, $3, $4, $5
FROM unnest($6::uuid[], $7::text[], $8::int[], $9::timestamptz[]) AS t (id, kind, seq, fire_at)
ON CONFLICT (job_id, kind, seq) DO NOTHING
"""
CLOSE = """
UPDATE pickup_timers SET closed_at = $2, close_reason = $3
WHERE job_id = $1 AND fired_at IS NULL AND closed_at IS NULL
"""
# The jobs with a timer due, locked; jobs another transaction holds are passed
# over (LIMIT counts the locked rows only), so instances share a backlog.
CLAIM_JOBS = """
SELECT id, application_id, tracking_code, service_code, state, version, pickup_point, due_at
FROM jobs
WHERE id IN (SELECT job_id FROM pickup_timers
             WHERE fired_at IS NULL AND closed_at IS NULL AND fire_at <= $1)
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
# Read after the jobs are locked, in a statement of its own: whatever another
# instance or a pickup committed before is seen.
DUE_TIMERS = """
SELECT id, job_id, kind, seq, fire_at, window_ends_at, traceparent, tracestate
FROM pickup_timers
WHERE job_id = ANY($1::uuid[]) AND fired_at IS NULL AND closed_at IS NULL AND fire_at <= $2
ORDER BY job_id, fire_at, kind, seq
FOR UPDATE
"""
MARK = "UPDATE pickup_timers SET fired_at = $1, outcome = $2 WHERE id = ANY($3::uuid[])"
CLOSE_GONE = """
UPDATE pickup_timers t SET closed_at = $1, close_reason = j.state
FROM jobs j
WHERE j.id = t.job_id AND t.job_id = ANY($2::uuid[]) AND t.fired_at IS NULL AND t.closed_at IS NULL
"""
MARK_UNCOLLECTED = """
UPDATE jobs SET uncollected_at = $1 WHERE id = ANY($2::uuid[]) AND uncollected_at IS NULL
"""
NEXT_DUE = "SELECT min(fire_at) FROM pickup_timers WHERE fired_at IS NULL AND closed_at IS NULL"


def _count(status: str) -> int:
    """The row count of a command status such as "INSERT 0 3" or "UPDATE 2"."""
    return int(status.rsplit(" ", 1)[-1])


async def open_window(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    ready_at: datetime,
    ends_at: datetime,
    kinds: list[TimerKind],
    seqs: list[int],
    moments: list[datetime],
    traceparent: str | None,
    tracestate: str | None,
) -> int:
    """One timer per (kind, seq, moment); how many were new (0 when the job
    already has its window: the first one stands)."""
    status = await conn.execute(
        OPEN,
        job_id,
        ready_at,
        ends_at,
        traceparent,
        tracestate,
        [uuid.uuid4() for _ in moments],
        kinds,
        seqs,
        moments,
    )
    return _count(status)


async def close_window(
    conn: asyncpg.Connection, job_id: uuid.UUID, *, at: datetime, reason: str
) -> int:
    """Close the job's pending timers; how many there were."""
    return _count(await conn.execute(CLOSE, job_id, at, reason))


async def claim_jobs(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(CLAIM_JOBS, now, limit)
    return rows


async def due_timers(
    conn: asyncpg.Connection, job_ids: list[uuid.UUID], now: datetime
) -> list[asyncpg.Record]:
    """The pending timers of these (locked) jobs due by `now`, locked, in the
    order they came due."""
    rows: list[asyncpg.Record] = await conn.fetch(DUE_TIMERS, job_ids, now)
    return rows


async def mark(
    conn: asyncpg.Connection, now: datetime, outcome: TimerOutcome, timer_ids: list[uuid.UUID]
) -> None:
    await conn.execute(MARK, now, outcome, timer_ids)


async def close_gone(conn: asyncpg.Connection, now: datetime, job_ids: list[uuid.UUID]) -> None:
    """Close the pending timers of jobs no longer waiting, with the job's state as the reason."""
    await conn.execute(CLOSE_GONE, now, job_ids)


async def mark_uncollected(
    conn: asyncpg.Connection, now: datetime, job_ids: list[uuid.UUID]
) -> None:
    await conn.execute(MARK_UNCOLLECTED, now, job_ids)
