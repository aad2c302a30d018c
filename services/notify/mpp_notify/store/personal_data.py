"""SQL of a resident's requests about their data in notify: the messages
sent to their phone or e-mail (found by the delivery log's recipient blind
index) or about their applications, who notify tells about an application or
a complaint (`recipients`), their WhatsApp conversation, and the correction
of the address of messages not sent yet and of the contacts kept."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

# What a message queued, held or waiting for its retry still is (not being
# sent now, not sent yet): its address can still change.
WAITING = ("queued", "held", "retrying")

MESSAGES = """
SELECT * FROM delivery_log
WHERE recipient_index = ANY($1::bytea[]) OR (application_id = ANY($2::uuid[]) AND complaint_id IS NULL)
ORDER BY created_at, id
"""
RECIPIENTS = """
SELECT * FROM recipients
WHERE (subject_type = 'application' AND subject_id = ANY($1::uuid[]))
   OR (subject_type = 'complaint' AND subject_id = ANY($2::uuid[]))
ORDER BY created_at, subject_type, subject_id
"""
RECIPIENTS_FOR_UPDATE = """
SELECT * FROM recipients
WHERE contact_enc IS NOT NULL
  AND ((subject_type = 'application' AND subject_id = ANY($1::uuid[]))
       OR (subject_type = 'complaint' AND subject_id = ANY($2::uuid[])))
ORDER BY subject_type, subject_id FOR UPDATE
"""
SET_CONTACT = "UPDATE recipients SET contact_enc = $3 WHERE subject_type = $1 AND subject_id = $2"
CONVERSATIONS = "SELECT * FROM wa_conversations WHERE sender_index = ANY($1::bytea[])"
COMPLAINTS_TOLD = """
SELECT DISTINCT complaint_id FROM delivery_log
WHERE recipient_index = ANY($1::bytea[]) AND complaint_id IS NOT NULL
"""
PENDING_FOR_UPDATE = f"""
SELECT id, channel, recipient_enc FROM delivery_log
WHERE recipient_index = ANY($1::bytea[]) AND recipient_enc IS NOT NULL
  AND status IN ({", ".join(f"'{s}'" for s in WAITING)})
ORDER BY id FOR UPDATE
"""
SET_ADDRESS = f"""
UPDATE delivery_log SET recipient_enc = $2, recipient_index = $3, recipient_masked = $4,
    updated_at = now()
WHERE id = $1 AND status IN ({", ".join(f"'{s}'" for s in WAITING)})
"""


async def messages(
    conn: asyncpg.Connection, indexes: Sequence[bytes], application_ids: Sequence[uuid.UUID]
) -> list[asyncpg.Record]:
    return list(await conn.fetch(MESSAGES, list(indexes), list(application_ids)))


async def complaints_told(conn: asyncpg.Connection, indexes: Sequence[bytes]) -> list[uuid.UUID]:
    """The complaints whose messages went to one of these recipients."""
    return [r["complaint_id"] for r in await conn.fetch(COMPLAINTS_TOLD, list(indexes))]


async def recipients(
    conn: asyncpg.Connection,
    application_ids: Sequence[uuid.UUID],
    complaint_ids: Sequence[uuid.UUID],
    *,
    for_update: bool = False,
) -> list[asyncpg.Record]:
    sql = RECIPIENTS_FOR_UPDATE if for_update else RECIPIENTS
    return list(await conn.fetch(sql, list(application_ids), list(complaint_ids)))


async def set_contact(
    conn: asyncpg.Connection, subject_type: str, subject_id: uuid.UUID, contact_enc: bytes
) -> None:
    await conn.execute(SET_CONTACT, subject_type, subject_id, contact_enc)


async def conversations(conn: asyncpg.Connection, indexes: Sequence[bytes]) -> list[asyncpg.Record]:
    return list(await conn.fetch(CONVERSATIONS, list(indexes)))


async def pending_for_update(
    conn: asyncpg.Connection, indexes: Sequence[bytes]
) -> list[asyncpg.Record]:
    """Messages to these recipients not handed over yet, locked."""
    return list(await conn.fetch(PENDING_FOR_UPDATE, list(indexes)))


async def set_address(
    conn: asyncpg.Connection,
    message_id: uuid.UUID,
    *,
    recipient_enc: bytes,
    recipient_index: bytes,
    recipient_masked: str,
) -> bool:
    """False when the message left the waiting states meanwhile."""
    status: str = await conn.execute(
        SET_ADDRESS, message_id, recipient_enc, recipient_index, recipient_masked
    )
    return status.endswith(" 1")
