"""WhatsApp conversations (`wa_conversations`): one per sender, the number
only encrypted and as its blind index (the recipient index of the delivery
log, so a message's 24-hour window is found from its row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

GET = "SELECT * FROM wa_conversations WHERE sender_index = $1"
SAVE = """
INSERT INTO wa_conversations (sender_index, sender_enc, language, state, menu,
    last_inbound_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (sender_index) DO UPDATE SET sender_enc = EXCLUDED.sender_enc,
    language = EXCLUDED.language, state = EXCLUDED.state, menu = EXCLUDED.menu,
    last_inbound_at = GREATEST(wa_conversations.last_inbound_at, EXCLUDED.last_inbound_at),
    updated_at = EXCLUDED.updated_at
"""
LAST_INBOUND = "SELECT last_inbound_at FROM wa_conversations WHERE sender_index = $1"


@dataclass(frozen=True)
class Conversation:
    language: str
    state: str
    menu: list[str]  # service codes, in the order of the numbers last shown
    last_inbound_at: datetime | None
    updated_at: datetime | None


async def find(conn: asyncpg.Connection | asyncpg.Pool, sender_index: bytes) -> Conversation | None:
    row = await conn.fetchrow(GET, sender_index)
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
    sender_index: bytes,
    sender_enc: bytes,
    language: str,
    state: str,
    menu: list[str],
    at: datetime,
) -> None:
    await conn.execute(SAVE, sender_index, sender_enc, language, state, menu, at)


async def last_inbound(
    conn: asyncpg.Connection | asyncpg.Pool, sender_index: bytes
) -> datetime | None:
    """When the sender last wrote (opening the 24-hour window), if ever."""
    found: datetime | None = await conn.fetchval(LAST_INBOUND, sender_index)
    return found
