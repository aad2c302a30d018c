"""The inbox: one row per (consumer, event id), written in the transaction of
the event's effect. A redelivered event finds its row and changes nothing, so
each consumer's effect of an event happens once.

A handled event's row is kept for INBOX_RETENTION_HOURS, longer than any
topic keeps the event (so it can no longer be delivered again), then the
outbox relay forgets it (`purge_handled`). A parked event's row stays."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg
from aiokafka.structs import ConsumerRecord

from mpp_shared.events.envelope import CloudEvent

Outcome = Literal["handled", "dead_lettered"]

_CLAIM = """
INSERT INTO inbox (consumer, event_id, event_type, topic, partition, "offset", outcome, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (consumer, event_id) DO UPDATE
    SET outcome = excluded.outcome, error = excluded.error, topic = excluded.topic,
        partition = excluded.partition, "offset" = excluded."offset", handled_at = now()
    WHERE inbox.outcome = 'dead_lettered' AND excluded.outcome = 'handled'
RETURNING true
"""
# An event parked on the dead-letter topic had no effect (its transaction
# rolled back): when it comes back (a replay of the .dlq), it is handled anew.


async def claim(
    conn: asyncpg.Connection,
    consumer: str,
    record: ConsumerRecord[Any, Any],
    event: CloudEvent,
    outcome: Outcome,
    error: str | None,
) -> bool:
    """Record `event` in the inbox of `consumer`; False if it was there
    already (and is not a parked event now handled on a replay)."""
    claimed = await conn.fetchval(
        _CLAIM,
        consumer,
        event.id,
        event.type,
        record.topic,
        record.partition,
        record.offset,
        outcome,
        error,
    )
    return bool(claimed)


_PURGE_HANDLED = """
DELETE FROM inbox WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM inbox
    WHERE outcome = 'handled' AND handled_at < now() - make_interval(secs => $1)
    LIMIT $2
))
"""


async def purge_handled(pool: asyncpg.Pool, older_than_seconds: float, batch: int = 5000) -> int:
    """Forget handled events older than `older_than_seconds`, `batch` rows per
    statement (no long lock, no long transaction); how many were forgotten."""
    forgotten = 0
    while True:
        status = await pool.execute(_PURGE_HANDLED, older_than_seconds, batch)
        deleted = int(status.split()[-1])
        forgotten += deleted
        if deleted < batch:
            return forgotten
