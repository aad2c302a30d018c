"""A subscription's webhook deliveries as its client sees them (newest first,
every attempt, `delivery_attempts` of kind `webhook`), and the replays a
redelivery queues from the event journal. The webhook dispatcher sends them."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from mpp_notify.domain.subscriptions import DeliveryStatus
from mpp_notify.webhooks import fanout

# One replay per journaled event of the types wanted ($5 exact, $6 prefixes)
# in [$2, $3); past the retention window ($4 days) an event may be being
# forgotten right now, so it is not replayed.
QUEUE_REPLAYS = (
    "WITH queued AS ("
    " INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, replay)"
    " SELECT gen_random_uuid(), $1, j.event_id, j.event_type, true FROM event_journal j"
    " WHERE j.occurred_at >= $2 AND j.occurred_at < $3"
    "   AND j.occurred_at >= now() - $4::int * interval '1 day'"
    f"  AND {fanout.match_condition('j.event_type', 5, 6)}"
    " RETURNING 1) SELECT count(*) FROM queued"
)
PAGE = (
    "SELECT * FROM webhook_deliveries WHERE subscription_id = $1 "
    "AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id LIMIT $3"
)
ATTEMPTS = (
    "SELECT * FROM delivery_attempts WHERE delivery_kind = 'webhook' "
    "AND delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt, id"
)


async def queue_replays(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    retention_days: int,
    event_types: list[str],
) -> int:
    """Queue again, as replays, the journaled events of `event_types` (types or
    patterns) that occurred in [start, end); how many."""
    exact, prefixes = fanout.matchers(event_types)
    queued: int = await conn.fetchval(
        QUEUE_REPLAYS, subscription_id, start, end, retention_days, exact, prefixes
    )
    return queued


async def find_page(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    status: DeliveryStatus | None,
    limit: int,
) -> list[asyncpg.Record]:
    return list(await conn.fetch(PAGE, subscription_id, status, limit))


async def attempts(conn: asyncpg.Connection, delivery_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """Every attempt of these deliveries, by delivery and in order."""
    return list(await conn.fetch(ATTEMPTS, delivery_ids))
