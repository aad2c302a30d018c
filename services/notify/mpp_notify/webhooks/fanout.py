"""The event journal and the fan-out of every consumed event to the OPD
webhook subscriptions that want it.

- Every consumed domain event is journaled once (``event_journal``), as the
  CloudEvent subscribers receive: without ``data.contact_sealed`` (only notify
  can open it, no subscriber has a use for it) and with the consumer's trace
  context as the CloudEvents distributed-tracing extension (``traceparent``,
  ``tracestate``). The journal is what a redelivery of a time range replays.
- One ``webhook_deliveries`` row per matching subscription, ``active`` or
  ``disabled``: a disabled subscription's rows wait (the dispatcher only sends
  for active ones) and go out once the client re-enables it, so nothing is
  lost while a receiver is down. The unique index on (subscription, event)
  makes a second consumption of the same event queue nothing.
- A subscription's ``event_types`` hold exact types
  (``mpp.application.verified.v1``) and prefix patterns ending in ``.*``
  (``mpp.application.*`` = a whole stream, ``mpp.application.verified.*`` =
  every version of one type).

Both run in the consumer's inbox transaction, for every event, so they are
one statement: an indexed insert each.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import asyncpg
from opentelemetry.propagate import inject

from mpp_shared.events import schemas  # noqa: F401  (registers the event types)
from mpp_shared.events.envelope import CloudEvent, registered_types
from mpp_shared.events.topics import Topic

# The streams notify consumes (handlers.CONSUMED_TOPICS); only their events reach the journal.
SUBSCRIBABLE_TOPICS = frozenset(
    {Topic.APPLICATIONS, Topic.DOCUMENTS, Topic.COMPLAINTS, Topic.SLA, Topic.POPULATION}
)
WILDCARD = ".*"


@functools.cache
def subscribable_types() -> dict[str, str]:
    """Event type -> topic, for every registered type a subscription may name."""
    return {
        event_type: str(model.topic)
        for event_type, model in registered_types().items()
        if model.topic in SUBSCRIBABLE_TOPICS
    }


def is_pattern(entry: str) -> bool:
    return entry.endswith(WILDCARD)


def matches(entry: str, event_type: str) -> bool:
    """Whether a subscription entry (exact type or ``prefix.*``) takes `event_type`."""
    if is_pattern(entry):
        return event_type.startswith(entry[:-1])
    return entry == event_type


def patterns_of(event_type: str) -> list[str]:
    """The entries that take `event_type`: itself and each of its ``prefix.*``."""
    parts = event_type.split(".")
    return [event_type, *(".".join(parts[:n]) + WILDCARD for n in range(1, len(parts)))]


def covers(entries: Iterable[str], wanted: str) -> bool:
    """Whether `entries` take every type `wanted` (a type or pattern) takes."""
    if not is_pattern(wanted):
        return any(matches(entry, wanted) for entry in entries)
    return any(is_pattern(entry) and wanted.startswith(entry[:-1]) for entry in entries)


def matchers(entries: Iterable[str]) -> tuple[list[str], list[str]]:
    """(exact types, prefixes) for SQL: ``event_type = ANY($exact) OR
    starts_with(event_type, any of $prefixes)``."""
    exact: list[str] = []
    prefixes: list[str] = []
    for entry in entries:
        (prefixes if is_pattern(entry) else exact).append(
            entry[:-1] if is_pattern(entry) else entry
        )
    return exact, prefixes


# SQL condition on a column `event_type` with $exact (text[]) and $prefixes (text[]).
def match_condition(column: str, exact: int, prefixes: int) -> str:
    return (
        f"({column} = ANY(${exact}::text[]) OR EXISTS "
        f"(SELECT 1 FROM unnest(${prefixes}::text[]) AS p WHERE starts_with({column}, p)))"
    )


def journal_envelope(event: CloudEvent) -> dict[str, Any]:
    """The CloudEvent as webhooks receive it."""
    envelope = event.model_dump(mode="json")
    envelope["data"] = {
        k: v for k, v in (envelope.get("data") or {}).items() if not k.endswith("_sealed")
    }
    carrier: dict[str, str] = {}
    inject(carrier)
    for key in ("traceparent", "tracestate"):
        if carrier.get(key):
            envelope[key] = carrier[key]
    return envelope


# The journal row and one delivery per subscription that wants the event,
# active and disabled alike (see the module docstring), in one round trip.
# The deliveries do not wait for the journal row: an event journaled before
# (a redelivery) still queues what is missing, as the unique index allows.
_JOURNAL_AND_FAN_OUT = """
WITH journaled AS (
    INSERT INTO event_journal (event_id, event_type, topic, subject, occurred_at, envelope)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (event_id) DO NOTHING
), queued AS (
    INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type)
    SELECT gen_random_uuid(), s.id, $1, $2
    FROM subscriptions s
    WHERE s.status IN ('active', 'disabled') AND s.event_types && $7::text[]
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM queued
"""


async def record_and_fan_out(conn: asyncpg.Connection, event: CloudEvent) -> bool:
    """Journal the event and queue one delivery per matching subscription, in
    the caller's transaction; True when any was queued."""
    topic = subscribable_types().get(event.type)
    if topic is None:
        model = registered_types().get(event.type)
        topic = str(model.topic) if model is not None else "unknown"
    queued: int = await conn.fetchval(
        _JOURNAL_AND_FAN_OUT,
        event.id,
        event.type,
        topic,
        event.subject,
        event.time,
        journal_envelope(event),
        patterns_of(event.type),
    )
    return queued > 0


# --- retention ----------------------------------------------------------------

_EXPIRED = """
SELECT j.event_id FROM event_journal j
WHERE j.occurred_at < now() - $1::interval
  AND NOT EXISTS (
      SELECT 1 FROM webhook_deliveries d
      WHERE d.event_id = j.event_id AND d.status NOT IN ('delivered', 'dead'))
ORDER BY j.occurred_at
LIMIT $2
FOR UPDATE OF j SKIP LOCKED
"""


async def purge_expired_events(
    pool: asyncpg.Pool, retention_days: int, batch_size: int = 5000
) -> int:
    """Forget journaled events older than the retention window whose deliveries
    are all finished (with those deliveries and their attempts): redelivery
    reaches back `retention_days`, no further. Events a disabled subscription
    still waits for are kept. Returns how many events went."""
    removed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            expired = [
                r["event_id"]
                for r in await conn.fetch(_EXPIRED, timedelta(days=retention_days), batch_size)
            ]
            if expired:
                await conn.execute(
                    "DELETE FROM delivery_attempts a USING webhook_deliveries d "
                    "WHERE a.delivery_kind = 'webhook' AND a.delivery_id = d.id "
                    "AND d.event_id = ANY($1::uuid[])",
                    expired,
                )
                await conn.execute(
                    "DELETE FROM webhook_deliveries WHERE event_id = ANY($1::uuid[])", expired
                )
                await conn.execute(
                    "DELETE FROM event_journal WHERE event_id = ANY($1::uuid[])", expired
                )
        removed += len(expired)
        if len(expired) < batch_size:
            return removed
