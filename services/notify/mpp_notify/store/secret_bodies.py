"""The encrypted real text of a message whose logged body is redacted (a
one-time sign-in code): written beside the delivery log row, read by the
dispatcher, dropped by a trigger once the message has left the queue
(migration 006)."""

from __future__ import annotations

import uuid

import asyncpg

from mpp_shared.pii import FieldCipher

CONTEXT = "secret-body"
SET_SECRET = "UPDATE delivery_log SET secret_body_enc = $2 WHERE id = $1"


async def keep(conn: asyncpg.Connection, message_id: uuid.UUID, secret_enc: bytes) -> None:
    await conn.execute(SET_SECRET, message_id, secret_enc)


def seal(cipher: FieldCipher, text: str) -> bytes:
    return cipher.encrypt(text, context=CONTEXT)


def body_to_send(cipher: FieldCipher, body: str, secret_enc: bytes | None) -> str:
    """What the dispatcher hands to the provider: the real text while kept."""
    return body if secret_enc is None else cipher.decrypt(secret_enc, context=CONTEXT)
