"""SQL of the public questions and answers (`published_answers`): an
officer's texts for one answered report, searched with PostgreSQL full-text
search ('simple' configuration, GIN index of migration 009); and the asker's
consent on the report itself. Nothing here reads the reporter's contact."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

PUBLISH = """
INSERT INTO published_answers (id, complaint_id, kind, question, answer, opd, published_by,
                               published_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (complaint_id) DO UPDATE SET
    question = EXCLUDED.question, answer = EXCLUDED.answer, opd = EXCLUDED.opd,
    published_by = EXCLUDED.published_by, published_at = EXCLUDED.published_at,
    withdrawn_at = NULL
RETURNING id, kind, question, answer, opd, published_at, withdrawn_at
"""
WITHDRAW = """
UPDATE published_answers SET withdrawn_at = $2
WHERE complaint_id = $1 AND withdrawn_at IS NULL
RETURNING id, kind, question, answer, opd, published_at, withdrawn_at
"""
LISTED = "FROM published_answers p WHERE p.withdrawn_at IS NULL"
MATCHES = "p.search @@ websearch_to_tsquery('simple', {q})"
RANK = "ts_rank(p.search, websearch_to_tsquery('simple', {q}))"


async def record_consent(
    conn: asyncpg.Connection,
    complaint_id: uuid.UUID,
    *,
    given_by: str,
    note: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE complaints SET publication_consent = true, consent_given_by = $2, "
        "consent_note = $3, consent_recorded_at = $4 WHERE id = $1",
        complaint_id,
        given_by,
        note,
        at,
    )


async def publish(
    conn: asyncpg.Connection,
    *,
    complaint_id: uuid.UUID,
    kind: str,
    question: str,
    answer: str,
    opd: str | None,
    published_by: str,
    at: datetime,
) -> asyncpg.Record:
    """Publish (or publish again, with new texts) the report's answer."""
    row: asyncpg.Record = await conn.fetchrow(
        PUBLISH, uuid.uuid4(), complaint_id, kind, question, answer, opd, published_by, at
    )
    return row


async def withdraw(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, at: datetime
) -> asyncpg.Record | None:
    """Unlist the report's published answer; None when none is listed."""
    return await conn.fetchrow(WITHDRAW, complaint_id, at)


async def search(
    conn: asyncpg.Connection, *, q: str | None, kind: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """One page of the listed questions and answers matching `q` (all words,
    "quoted phrases", -excluded) and `kind`, best match first (newest first
    without `q`), and how many match in all."""
    args: list[Any] = []
    where = [LISTED]
    order = "p.published_at DESC, p.id"
    if q:
        args.append(q)
        where.append(MATCHES.format(q="$1"))
        order = f"{RANK.format(q='$1')} DESC, {order}"
    if kind:
        args.append(kind)
        where.append(f"p.kind = ${len(args)}")
    condition = " AND ".join(where)
    total: int = await conn.fetchval(f"SELECT count(*) {condition}", *args)
    rows = await conn.fetch(
        f"SELECT p.id, p.kind, p.question, p.answer, p.opd, p.published_at {condition} "
        f"ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}",
        *args,
    )
    return list(rows), total
