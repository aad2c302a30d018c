"""Each inbound WhatsApp message once (`wa_inbound_messages`): the webhook
is retried by WhatsApp; the row is inserted in the transaction that queues
the reply, so a repeat finds it and answers nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

INSERT = """
INSERT INTO wa_inbound_messages (message_id, sender_index, kind) VALUES ($1, $2, $3)
ON CONFLICT (message_id) DO NOTHING RETURNING true
"""
SEEN = "SELECT true FROM wa_inbound_messages WHERE message_id = $1"
COUNT_SINCE = """
SELECT count(*) FROM wa_inbound_messages
WHERE sender_index = ANY($1::bytea[]) AND received_at >= $2 AND ($3::text IS NULL OR kind = $3)
"""


async def insert(conn: asyncpg.Connection, message_id: str, sender_index: bytes, kind: str) -> bool:
    """False when the message was already handled."""
    return bool(await conn.fetchval(INSERT, message_id, sender_index, kind))


async def seen(conn: asyncpg.Connection | asyncpg.Pool, message_id: str) -> bool:
    return bool(await conn.fetchval(SEEN, message_id))


async def count_since(
    conn: asyncpg.Connection | asyncpg.Pool,
    sender_indexes: Sequence[bytes],
    since: datetime,
    kind: str | None = None,
) -> int:
    """How many messages (of `kind`, or all) the sender sent since then
    (`sender_indexes`: under every configured index key)."""
    return int(await conn.fetchval(COUNT_SINCE, list(sender_indexes), since, kind))
