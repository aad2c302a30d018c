"""SQL of the citizen sign-in: one-time codes, sessions and the rate-limit
counts every replica shares (all in PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

INSERT_CODE = """
INSERT INTO citizen_signin_codes (id, nik_enc, nik_index, phone_enc, phone_index,
    channel, language, code_hash, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""
# A new code replaces the live ones of the same NIK and phone.
REPLACE_LIVE = """
UPDATE citizen_signin_codes SET ended_at = $3, end_reason = 'replaced'
WHERE nik_index = $1 AND phone_index = $2 AND ended_at IS NULL AND expires_at > $3
"""
CODE_BY_ID = "SELECT * FROM citizen_signin_codes WHERE id = $1 FOR UPDATE"
LATEST_CODE = """
SELECT * FROM citizen_signin_codes
WHERE nik_index = ANY($1::bytea[]) AND phone_index = ANY($2::bytea[])
ORDER BY created_at DESC LIMIT 1 FOR UPDATE
"""
WRONG_TRY = """
UPDATE citizen_signin_codes SET wrong_tries = wrong_tries + 1,
    ended_at = CASE WHEN wrong_tries + 1 >= $3 THEN $2::timestamptz END,
    end_reason = CASE WHEN wrong_tries + 1 >= $3 THEN 'wrong_tries' END
WHERE id = $1 RETURNING wrong_tries
"""
USE_CODE = "UPDATE citizen_signin_codes SET ended_at = $2, end_reason = 'used' WHERE id = $1"
INSERT_SESSION = """
INSERT INTO citizen_sessions (id, code_id, nik_enc, nik_index, phone_enc, phone_index,
    channel, language, created_at, expires_at)
SELECT $1, c.id, c.nik_enc, c.nik_index, c.phone_enc, c.phone_index, c.channel, c.language,
       $2, $3
FROM citizen_signin_codes c WHERE c.id = $4
"""
LIVE_SESSION = """
SELECT * FROM citizen_sessions WHERE id = $1 AND ended_at IS NULL AND expires_at > $2
"""
END_SESSION = """
UPDATE citizen_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL RETURNING id
"""
# Serialises the attempts on one key across replicas for the transaction.
LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || encode($2, 'hex'), 16))"
PRUNE = "DELETE FROM citizen_rate_events WHERE scope = $1 AND key = $2 AND at <= $3"
WINDOW = """
SELECT count(*) AS n, min(at) AS oldest FROM citizen_rate_events
WHERE scope = $1 AND key = $2 AND at > $3
"""
# What has served its purpose, a batch at a time (a code request runs them).
PURGE_COUNTS = """
DELETE FROM citizen_rate_events WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM citizen_rate_events WHERE at <= $1 LIMIT $2))
"""
PURGE_SESSIONS = """
DELETE FROM citizen_sessions WHERE id = ANY(ARRAY(
    SELECT id FROM citizen_sessions WHERE expires_at <= $1 LIMIT $2))
"""
PURGE_CODES = """
DELETE FROM citizen_signin_codes c WHERE c.id = ANY(ARRAY(
    SELECT id FROM citizen_signin_codes WHERE expires_at <= $1 LIMIT $2))
AND NOT EXISTS (SELECT 1 FROM citizen_sessions s WHERE s.code_id = c.id)
"""
COUNT_ATTEMPT = "INSERT INTO citizen_rate_events (scope, key, at) VALUES ($1, $2, $3)"


@dataclass(frozen=True)
class NewCode:
    id: uuid.UUID
    nik_enc: bytes
    nik_index: bytes
    phone_enc: bytes
    phone_index: bytes
    channel: str
    language: str
    code_hash: bytes
    created_at: datetime
    expires_at: datetime


async def insert_code(conn: asyncpg.Connection, code: NewCode) -> None:
    await conn.execute(REPLACE_LIVE, code.nik_index, code.phone_index, code.created_at)
    await conn.execute(
        INSERT_CODE,
        code.id,
        code.nik_enc,
        code.nik_index,
        code.phone_enc,
        code.phone_index,
        code.channel,
        code.language,
        code.code_hash,
        code.created_at,
        code.expires_at,
    )


async def code_by_id(conn: asyncpg.Connection, request_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(CODE_BY_ID, request_id)


async def latest_code(
    conn: asyncpg.Connection, nik_indexes: Sequence[bytes], phone_indexes: Sequence[bytes]
) -> asyncpg.Record | None:
    return await conn.fetchrow(LATEST_CODE, list(nik_indexes), list(phone_indexes))


async def wrong_try(
    conn: asyncpg.Connection, code_id: uuid.UUID, at: datetime, max_tries: int
) -> int:
    tries: int = await conn.fetchval(WRONG_TRY, code_id, at, max_tries)
    return tries


async def open_session(
    conn: asyncpg.Connection,
    *,
    session_id: uuid.UUID,
    code_id: uuid.UUID,
    at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(USE_CODE, code_id, at)
    await conn.execute(INSERT_SESSION, session_id, at, expires_at, code_id)


async def live_session(
    pool: asyncpg.Pool | asyncpg.Connection, session_id: uuid.UUID, at: datetime
) -> asyncpg.Record | None:
    return await pool.fetchrow(LIVE_SESSION, session_id, at)


async def end_session(conn: asyncpg.Connection, session_id: uuid.UUID, at: datetime) -> bool:
    return await conn.fetchval(END_SESSION, session_id, at) is not None


async def attempts_in_window(
    conn: asyncpg.Connection, scope: str, key: bytes, since: datetime
) -> tuple[int, datetime | None]:
    """Lock the key for the transaction, prune what fell out of the window,
    and count what is in it (with the oldest attempt's time)."""
    await conn.execute(LOCK_KEY, scope, key)
    await conn.execute(PRUNE, scope, key, since)
    row = await conn.fetchrow(WINDOW, scope, key, since)
    return int(row["n"]), row["oldest"]


async def count_attempt(conn: asyncpg.Connection, scope: str, key: bytes, at: datetime) -> None:
    await conn.execute(COUNT_ATTEMPT, scope, key, at)


async def purge(
    conn: asyncpg.Connection, *, counts_before: datetime, ended_before: datetime, batch: int = 50
) -> None:
    """Remove a batch of old counts, sessions and codes."""
    await conn.execute(PURGE_COUNTS, counts_before, batch)
    await conn.execute(PURGE_SESSIONS, ended_before, batch)
    await conn.execute(PURGE_CODES, ended_before, batch)
