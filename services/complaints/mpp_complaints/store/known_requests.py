"""SQL of what complaints knows of the requests (`known_requests`), learnt
from application and document events, so that a complaint can name its
request by tracking code."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def by_tracking_code(conn: asyncpg.Connection, tracking_code: str) -> asyncpg.Record | None:
    """The request's application id and progress, None when not known (yet)."""
    return await conn.fetchrow(
        "SELECT application_id, progress FROM known_requests WHERE tracking_code = $1",
        tracking_code,
    )


async def learn(
    conn: asyncpg.Connection,
    *,
    tracking_code: str,
    application_id: uuid.UUID,
    service_code: str,
    progress: str,
    at: datetime,
) -> None:
    """Record a submitted request once, link the complaints that named its
    code before its event arrived, and apply what was heard of it before
    (`request_facts_waiting`, rarely anything: a second round trip only then)."""
    if await conn.fetchval(LEARN, tracking_code, application_id, service_code, progress, at):
        await conn.execute(APPLY_WAITING, application_id)


# Both writes run whatever the query reads; the query says whether facts wait.
LEARN = """
WITH linked AS (
    UPDATE complaints SET application_id = $2 WHERE tracking_code = $1 AND application_id IS NULL
), learnt AS (
    INSERT INTO known_requests (tracking_code, application_id, service_code, progress, progress_at)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tracking_code) DO NOTHING
)
SELECT EXISTS (SELECT 1 FROM request_facts_waiting WHERE application_id = $2)
"""

# The facts heard before the request was known, merged into its row: the
# latest progress by time, the first breach and pickup.
APPLY_WAITING = """
WITH waiting AS (
    DELETE FROM request_facts_waiting WHERE application_id = $1 RETURNING *
)
UPDATE known_requests k SET
    progress = CASE WHEN w.progress IS NOT NULL
                     AND (k.progress_at IS NULL OR w.progress_at >= k.progress_at)
                    THEN w.progress ELSE k.progress END,
    progress_at = GREATEST(k.progress_at, w.progress_at),
    due_at = COALESCE(w.due_at, k.due_at),
    sla_breached_at = COALESCE(k.sla_breached_at, w.sla_breached_at),
    picked_up_at = COALESCE(k.picked_up_at, w.picked_up_at),
    updated_at = now()
FROM waiting w
WHERE k.application_id = w.application_id
"""
SET_PROGRESS = """
UPDATE known_requests SET
    progress = CASE WHEN progress_at IS NULL OR $4 >= progress_at THEN $2 ELSE progress END,
    progress_at = GREATEST(progress_at, $4),
    due_at = COALESCE($3, due_at),
    updated_at = now()
WHERE application_id = $1
"""
WAIT_PROGRESS = """
INSERT INTO request_facts_waiting AS w (application_id, progress, progress_at, due_at)
VALUES ($1, $2, $4, $3)
ON CONFLICT (application_id) DO UPDATE SET
    progress = CASE WHEN w.progress_at IS NULL OR EXCLUDED.progress_at >= w.progress_at
                    THEN EXCLUDED.progress ELSE w.progress END,
    progress_at = GREATEST(w.progress_at, EXCLUDED.progress_at),
    due_at = COALESCE(EXCLUDED.due_at, w.due_at)
"""
SET_BREACHED = """
UPDATE known_requests SET sla_breached_at = COALESCE(sla_breached_at, $2),
    due_at = COALESCE(due_at, $3), updated_at = now()
WHERE application_id = $1
"""
WAIT_BREACHED = """
INSERT INTO request_facts_waiting AS w (application_id, sla_breached_at, due_at)
VALUES ($1, $2, $3)
ON CONFLICT (application_id) DO UPDATE SET
    sla_breached_at = COALESCE(w.sla_breached_at, EXCLUDED.sla_breached_at),
    due_at = COALESCE(w.due_at, EXCLUDED.due_at)
"""
SET_PICKED_UP = """
UPDATE known_requests SET picked_up_at = COALESCE(picked_up_at, $2) WHERE application_id = $1
"""
WAIT_PICKED_UP = """
INSERT INTO request_facts_waiting AS w (application_id, picked_up_at) VALUES ($1, $2)
ON CONFLICT (application_id) DO UPDATE SET
    picked_up_at = COALESCE(w.picked_up_at, EXCLUDED.picked_up_at)
"""


async def _set_or_wait(
    conn: asyncpg.Connection, update: str, wait: str, application_id: uuid.UUID, *args: object
) -> None:
    """`update` the known request; when it is not known yet, keep the fact
    waiting (`wait`, same parameters) for its submission."""
    if await conn.execute(update, application_id, *args) == "UPDATE 0":
        await conn.execute(wait, application_id, *args)


async def set_progress(
    conn: asyncpg.Connection,
    application_id: uuid.UUID,
    progress: str,
    due_at: datetime | None,
    at: datetime,
) -> None:
    """The request's progress as of `at` (kept only when no later progress
    was heard), and its due date when the event has one."""
    await _set_or_wait(conn, SET_PROGRESS, WAIT_PROGRESS, application_id, progress, due_at, at)


async def set_picked_up(conn: asyncpg.Connection, application_id: uuid.UUID, at: datetime) -> None:
    """The first pickup is kept; a redelivered event changes nothing."""
    await _set_or_wait(conn, SET_PICKED_UP, WAIT_PICKED_UP, application_id, at)


async def set_sla_breached(
    conn: asyncpg.Connection, application_id: uuid.UUID, at: datetime, due_at: datetime | None
) -> None:
    """The first breach is kept (and the due date, when none was known)."""
    await _set_or_wait(conn, SET_BREACHED, WAIT_BREACHED, application_id, at, due_at)
