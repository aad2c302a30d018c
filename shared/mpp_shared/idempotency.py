"""Idempotency-Key handling inside a create's transaction: the first request
with a key does the work and stores its answer; a retry gets that answer
back; a concurrent twin waits on the key's row until the first commits."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import BaseModel

from mpp_shared.errors import Conflict, Invalid


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: Any


async def claim_idempotency_key(
    conn: asyncpg.Connection, *, scope: str, key: str, fingerprint: str
) -> StoredAnswer | None:
    """Inside the caller's transaction: None when this request is the first with
    `key` (the caller then does the work and calls `store_answer`), else the
    first request's answer. A concurrent twin waits on the key's row until the
    first commits, then gets its answer."""
    claimed = await conn.fetchval(
        "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING RETURNING true",
        scope,
        key,
        fingerprint,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
        scope,
        key,
    )
    if row is None or row["status_code"] is None:
        raise Conflict(
            "idempotency_in_progress",
            "Permintaan yang sama sedang diproses",
            "The same request is still being processed",
        )
    if row["request_hash"] != fingerprint:
        raise Invalid(
            "idempotency_key_reused",
            "Idempotency-Key ini sudah dipakai untuk permintaan lain",
            "This Idempotency-Key was already used for a different request",
        )
    return StoredAnswer(row["status_code"], row["response"])


async def store_answer(
    conn: asyncpg.Connection, *, scope: str, key: str, status_code: int, body: Any
) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2",
        scope,
        key,
        status_code,
        body,
    )


class Idempotency:
    """Idempotency-Key handling inside a create's transaction.

        once = Idempotency(conn, scope, idempotency_key)
        if (stored := await once.replay(payload)) is not None:
            return stored          # the first answer, unchanged
        ... create ...
        await once.remember(answer)

    Without a key both steps do nothing.
    """

    def __init__(self, conn: asyncpg.Connection, scope: str, key: str | None) -> None:
        self.conn, self.scope, self.key = conn, scope, key

    async def replay(self, payload: Any) -> StoredAnswer | None:
        if not self.key:
            return None
        return await claim_idempotency_key(
            self.conn, scope=self.scope, key=self.key, fingerprint=request_fingerprint(payload)
        )

    async def remember(self, answer: BaseModel, status_code: int = 201) -> None:
        if self.key:
            await store_answer(
                self.conn,
                scope=self.scope,
                key=self.key,
                status_code=status_code,
                body=answer.model_dump(mode="json"),
            )
