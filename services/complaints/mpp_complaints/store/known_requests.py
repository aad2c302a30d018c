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
) -> None:
    """Record a submitted request once, and link the complaints that named
    its code before its event arrived."""
    await conn.execute(
        "INSERT INTO known_requests (tracking_code, application_id, service_code, progress) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (tracking_code) DO NOTHING",
        tracking_code,
        application_id,
        service_code,
        progress,
    )
    await conn.execute(
        "UPDATE complaints SET application_id = $2 WHERE tracking_code = $1 AND application_id IS NULL",
        tracking_code,
        application_id,
    )


async def set_progress(
    conn: asyncpg.Connection,
    application_id: uuid.UUID,
    progress: str,
    due_at: datetime | None,
) -> None:
    """The request's latest progress (and its due date, when the event has one)."""
    await conn.execute(
        "UPDATE known_requests SET progress = $2, updated_at = now(), "
        "due_at = COALESCE($3, due_at) WHERE application_id = $1",
        application_id,
        progress,
        due_at,
    )


async def set_picked_up(conn: asyncpg.Connection, application_id: uuid.UUID, at: datetime) -> None:
    """The first pickup is kept; a redelivered event changes nothing."""
    await conn.execute(
        "UPDATE known_requests SET picked_up_at = COALESCE(picked_up_at, $2) "
        "WHERE application_id = $1",
        application_id,
        at,
    )


async def set_sla_breached(
    conn: asyncpg.Connection, application_id: uuid.UUID, at: datetime, due_at: datetime | None
) -> None:
    """The first breach is kept (and the due date, when none was known)."""
    await conn.execute(
        "UPDATE known_requests SET sla_breached_at = COALESCE(sla_breached_at, $2), "
        "due_at = COALESCE(due_at, $3), updated_at = now() WHERE application_id = $1",
        application_id,
        at,
        due_at,
    )
