"""WhatsApp conversations (`wa_conversations`): one per sender, the number
only encrypted and as its blind index (the recipient index of the delivery
log, so a message's 24-hour window is found from its row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

# Lookups take the sender's index under every configured index key (the
# active one first); a save moves the row to the active one.
GET = """
SELECT * FROM wa_conversations WHERE sender_index = ANY($1::bytea[])
ORDER BY updated_at DESC NULLS LAST LIMIT 1
"""
DROP_OLDER = """
DELETE FROM wa_conversations WHERE sender_index = ANY($1::bytea[]) AND sender_index <> $2
"""
SAVE = """
INSERT INTO wa_conversations (sender_index, sender_enc, language, state, menu,
    last_inbound_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (sender_index) DO UPDATE SET sender_enc = EXCLUDED.sender_enc,
    language = EXCLUDED.language, state = EXCLUDED.state, menu = EXCLUDED.menu,
    last_inbound_at = GREATEST(wa_conversations.last_inbound_at, EXCLUDED.last_inbound_at),
    updated_at = EXCLUDED.updated_at
"""
LAST_INBOUND = """
SELECT max(last_inbound_at) FROM wa_conversations WHERE sender_index = ANY($1::bytea[])
"""


@dataclass(frozen=True)
class Conversation:
    language: str
    state: str
    menu: list[str]  # service codes, in the order of the numbers last shown
    last_inbound_at: datetime | None
    updated_at: datetime | None


async def find(
    conn: asyncpg.Connection | asyncpg.Pool, sender_indexes: Sequence[bytes]
) -> Conversation | None:
    row = await conn.fetchrow(GET, list(sender_indexes))
    if row is None:
        return None
    menu: Any = row["menu"]
    return Conversation(
        language=row["language"],
        state=row["state"],
        menu=[str(code) for code in menu or []],
        last_inbound_at=row["last_inbound_at"],
        updated_at=row["updated_at"],
    )


async def save(
    conn: asyncpg.Connection,
    *,
    sender_indexes: Sequence[bytes],
    sender_enc: bytes,
    language: str,
    state: str,
    menu: list[str],
    at: datetime,
) -> None:
    """Save under the first (the active) index, dropping a row kept under an
    older index key (the new state replaces it)."""
    await conn.execute(DROP_OLDER, list(sender_indexes), sender_indexes[0])
    await conn.execute(SAVE, sender_indexes[0], sender_enc, language, state, menu, at)


async def last_inbound(
    conn: asyncpg.Connection | asyncpg.Pool, sender_indexes: Sequence[bytes]
) -> datetime | None:
    """When the sender last wrote (opening the 24-hour window), if ever."""
    found: datetime | None = await conn.fetchval(LAST_INBOUND, list(sender_indexes))
    return found
