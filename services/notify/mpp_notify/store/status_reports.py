"""Providers' status reports (`provider_status_reports`) and the delivery
log rows they are about, found by the provider's message id."""

from __future__ import annotations

from datetime import datetime

import asyncpg

INSERT = """
INSERT INTO provider_status_reports (provider, provider_message_id, status, reported_at, error)
VALUES ($1, $2, $3, $4, $5) RETURNING id
"""
# The message a report is about, locked until the transaction ends.
LOCK_MESSAGE = """
SELECT * FROM delivery_log WHERE provider = $1 AND provider_message_id = $2
ORDER BY updated_at DESC LIMIT 1 FOR UPDATE
"""
WAITING = """
SELECT * FROM provider_status_reports
WHERE provider = $1 AND provider_message_id = $2 AND NOT applied ORDER BY reported_at, id
"""
# Reports and the acceptance of one provider message, one at a time: without
# it a report committed while the acceptance is being recorded is seen by
# neither (each transaction's statements miss the other's uncommitted row).
LOCK_ID = "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))"
MARK_APPLIED = "UPDATE provider_status_reports SET applied = true WHERE id = ANY($1::bigint[])"


async def insert(
    conn: asyncpg.Connection,
    *,
    provider: str,
    provider_message_id: str,
    status: str,
    reported_at: datetime,
    error: str | None,
) -> int:
    return int(
        await conn.fetchval(INSERT, provider, provider_message_id, status, reported_at, error)
    )


async def lock_message(
    conn: asyncpg.Connection, provider: str, provider_message_id: str
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(LOCK_MESSAGE, provider, provider_message_id)
    return row


async def waiting(
    conn: asyncpg.Connection, provider: str, provider_message_id: str
) -> list[asyncpg.Record]:
    """Reports not applied yet (they came before the send's outcome was kept)."""
    return list(await conn.fetch(WAITING, provider, provider_message_id))


async def mark_applied(conn: asyncpg.Connection, report_ids: list[int]) -> None:
    await conn.execute(MARK_APPLIED, report_ids)


async def lock_id(conn: asyncpg.Connection, provider: str, provider_message_id: str) -> None:
    """Serialise, until the transaction ends, what is done about this message id."""
    await conn.execute(LOCK_ID, provider, provider_message_id)
