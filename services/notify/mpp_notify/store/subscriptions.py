"""OPD webhook subscriptions (`subscriptions`), each read with the counts of
its deliveries. A subscription belongs to the client (token subject) that
created it: the `owner` arguments find only that client's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from mpp_notify.domain.subscriptions import SubscriptionStatus

WITH_COUNTS = """
SELECT s.*, c.pending, c.delivered, c.dead
FROM subscriptions s
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE d.status IN ('pending', 'sending', 'retrying')) AS pending,
           count(*) FILTER (WHERE d.status = 'delivered') AS delivered,
           count(*) FILTER (WHERE d.status = 'dead') AS dead
    FROM webhook_deliveries d WHERE d.subscription_id = s.id
) c
"""
# With $2 NULL: whoever owns it.
FIND = WITH_COUNTS + " WHERE s.id = $1 AND ($2::text IS NULL OR s.owner = $2)"
FIND_ALL = (
    WITH_COUNTS
    + " WHERE ($1::text IS NULL OR s.owner = $1) AND ($2::text IS NULL OR s.status = $2)"
    " ORDER BY s.created_at, s.id"
)
LOCK_OWN = "SELECT true FROM subscriptions WHERE id = $1 AND owner = $2 FOR UPDATE"
LOCK_EVENT_TYPES = "SELECT event_types FROM subscriptions WHERE id = $1 AND owner = $2 FOR UPDATE"
INSERT = (
    "INSERT INTO subscriptions "
    "(id, owner, url, event_types, secret_enc, description, signature_scheme) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# The columns a client may change.
CHANGEABLE = frozenset({"url", "event_types", "secret_enc", "description", "signature_scheme"})
LOCK_SCHEME = "SELECT signature_scheme FROM subscriptions WHERE id = $1 AND owner = $2 FOR UPDATE"
ENABLE = (
    "UPDATE subscriptions SET status = 'active', consecutive_failures = 0, "
    "disabled_at = NULL, disabled_reason = NULL, updated_at = now() WHERE id = $1"
)
# Dead ones stay dead (a redelivery sends them again).
DUE_NOW = (
    "UPDATE webhook_deliveries SET next_attempt_at = now(), updated_at = now() "
    "WHERE subscription_id = $1 AND status IN ('pending', 'retrying')"
)
DISABLE = (
    "UPDATE subscriptions SET status = 'disabled', disabled_at = now(), "
    "disabled_reason = 'disabled by its client', updated_at = now() "
    "WHERE id = $1 AND status = 'active'"
)
# Its deliveries go with it (ON DELETE CASCADE); their attempts are deleted first.
DELETE_ATTEMPTS = (
    "DELETE FROM delivery_attempts a USING webhook_deliveries d "
    "WHERE a.delivery_kind = 'webhook' AND a.delivery_id = d.id AND d.subscription_id = $1"
)
DELETE = "DELETE FROM subscriptions WHERE id = $1"


async def find(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str | None
) -> asyncpg.Record | None:
    """One subscription with its delivery counts; with `owner`, only if it is theirs."""
    row: asyncpg.Record | None = await conn.fetchrow(FIND, subscription_id, owner)
    return row


async def find_all(
    conn: asyncpg.Connection, owner: str | None, status: SubscriptionStatus | None
) -> list[asyncpg.Record]:
    """Oldest first, with their delivery counts."""
    return list(await conn.fetch(FIND_ALL, owner, status))


async def lock_own(conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str) -> bool:
    """Lock the owner's subscription until the transaction ends; False if it has none such."""
    return bool(await conn.fetchval(LOCK_OWN, subscription_id, owner))


async def lock_own_scheme(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str
) -> str | None:
    """Lock the owner's subscription; its signature scheme, None if it has none such."""
    scheme: str | None = await conn.fetchval(LOCK_SCHEME, subscription_id, owner)
    return scheme


async def lock_event_types(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, owner: str
) -> list[str] | None:
    """Lock the owner's subscription; its event types, None if it has none such."""
    event_types: list[str] | None = await conn.fetchval(LOCK_EVENT_TYPES, subscription_id, owner)
    return event_types


async def insert(
    conn: asyncpg.Connection,
    subscription_id: uuid.UUID,
    *,
    owner: str,
    url: str,
    event_types: list[str],
    secret_enc: bytes,
    description: str | None,
    signature_scheme: str = "mpp_v1",
) -> None:
    await conn.execute(
        INSERT, subscription_id, owner, url, event_types, secret_enc, description, signature_scheme
    )


async def change(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, changes: Mapping[str, Any]
) -> None:
    """Set the columns named (only those in CHANGEABLE) and `updated_at`."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValueError(f"not a changeable subscription column: {sorted(unknown)}")
    columns = list(changes)
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE subscriptions SET {assignments}, updated_at = now() WHERE id = $1",
        subscription_id,
        *changes.values(),
    )


async def enable(conn: asyncpg.Connection, subscription_id: uuid.UUID) -> int:
    """Active again, failures forgotten; its waiting deliveries due now (how many)."""
    await conn.execute(ENABLE, subscription_id)
    waiting: str = await conn.execute(DUE_NOW, subscription_id)
    return int(waiting.split()[-1])


async def disable(conn: asyncpg.Connection, subscription_id: uuid.UUID) -> None:
    """Disabled by its client (a disabled one stays as it is)."""
    await conn.execute(DISABLE, subscription_id)


async def delete(conn: asyncpg.Connection, subscription_id: uuid.UUID) -> None:
    """The subscription, its deliveries and their attempts."""
    await conn.execute(DELETE_ATTEMPTS, subscription_id)
    await conn.execute(DELETE, subscription_id)
