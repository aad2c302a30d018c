"""The delivery log (`delivery_log`): one row per message, at most one per
event, channel and recipient, the recipient only as a blind index, masked and
encrypted; and every attempt to hand a message over (`delivery_attempts`,
kind `message`). The dispatcher sends and updates these rows; here they are
written once, read, and queued again."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from mpp_shared.sql_rows import Row, with_rows

# One message; ON CONFLICT: the event was already told on this channel to this recipient.
NEW_MESSAGE = """
message AS (
    INSERT INTO delivery_log (id, source_event_id, source_event_type, channel, provider,
        recipient_index, recipient_masked, recipient_enc, language, subject, body, status,
        urgent, next_attempt_at, application_id, complaint_id, tracking_code, trace_id, template)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
            $14, $15, $16, $17, $18, $19)
    ON CONFLICT (source_event_id, channel, recipient_index) DO NOTHING
    RETURNING id
)
"""
# Every filter is optional ($n IS NULL matches all); oldest first.
LIST = """
SELECT * FROM delivery_log WHERE ($1::uuid IS NULL OR application_id = $1)
AND ($2::uuid IS NULL OR complaint_id = $2) AND ($3::text IS NULL OR tracking_code = $3)
AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR channel = $5)
ORDER BY created_at, id LIMIT $6 OFFSET $7
"""
# The page after the message ($7, $8) = (created_at, id): keyset, an index
# range scan at any depth.
LIST_AFTER = """
SELECT * FROM delivery_log WHERE ($1::uuid IS NULL OR application_id = $1)
AND ($2::uuid IS NULL OR complaint_id = $2) AND ($3::text IS NULL OR tracking_code = $3)
AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR channel = $5)
AND (created_at, id) > ($7, $8)
ORDER BY created_at, id LIMIT $6
"""
TO_RECIPIENT = """
SELECT * FROM delivery_log WHERE recipient_index = ANY($1::bytea[])
ORDER BY created_at DESC, id LIMIT $2
"""
GET = "SELECT * FROM delivery_log WHERE id = $1"
ATTEMPTS = "SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt, id"
LOCK_STATUS = "SELECT status FROM delivery_log WHERE id = $1 FOR UPDATE"
# Due at once, as if new; what it was is in the audit entry.
QUEUE_AGAIN = """
UPDATE delivery_log SET status = 'queued', next_attempt_at = now(), dead_at = NULL,
delivered_at = NULL, sent_at = NULL, read_at = NULL, last_error = NULL, resends = resends + 1,
updated_at = now()
WHERE id = $1
"""


@dataclass(frozen=True)
class NewMessage:
    """One message to log, in the order of NEW_MESSAGE's columns."""

    id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str
    provider: str
    recipient_index: bytes
    recipient_masked: str
    recipient_enc: bytes
    language: str
    subject: str | None
    body: str
    status: str
    urgent: bool
    next_attempt_at: datetime
    application_id: uuid.UUID | None
    complaint_id: uuid.UUID | None
    tracking_code: str | None
    trace_id: str | None
    # WhatsApp: the approved template sent instead when the 24-hour window is closed.
    template: dict[str, Any] | None = None


async def insert(
    conn: asyncpg.Connection, message: NewMessage, *, along: Sequence[Row] = ()
) -> bool:
    """Log the message and write the rows `along` with it (its event), in one
    statement; False, and nothing written, when this event was already
    logged for this channel and recipient."""
    sql, args = with_rows(
        NEW_MESSAGE,
        astuple(message),
        along,
        when="message",
        final="SELECT count(*) FROM message",
    )
    return bool(await conn.fetchval(sql, *args))


async def find_page(
    conn: asyncpg.Connection,
    *,
    application_id: uuid.UUID | None,
    complaint_id: uuid.UUID | None,
    tracking_code: str | None,
    status: str | None,
    channel: str | None,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[asyncpg.Record]:
    """Oldest first: from `offset` on, or after the message whose
    (created_at, id) is `after`."""
    filters = (application_id, complaint_id, tracking_code, status, channel, limit)
    if after is not None:
        return list(await conn.fetch(LIST_AFTER, *filters, *after))
    return list(await conn.fetch(LIST, *filters, offset))


async def find_to_recipient(
    conn: asyncpg.Connection, recipient_indexes: list[bytes], limit: int
) -> list[asyncpg.Record]:
    """Newest first: the messages logged under any of these blind indexes."""
    return list(await conn.fetch(TO_RECIPIENT, recipient_indexes, limit))


async def find(conn: asyncpg.Connection, notification_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(GET, notification_id)
    return row


async def attempts(conn: asyncpg.Connection, notification_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(ATTEMPTS, notification_id))


async def lock_status(conn: asyncpg.Connection, notification_id: uuid.UUID) -> str | None:
    """The message's status, its row locked until the transaction ends; None if unknown."""
    status: str | None = await conn.fetchval(LOCK_STATUS, notification_id)
    return status


async def queue_again(conn: asyncpg.Connection, notification_id: uuid.UUID) -> None:
    await conn.execute(QUEUE_AGAIN, notification_id)
