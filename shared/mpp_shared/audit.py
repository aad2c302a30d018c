"""Append-only audit trail of officer actions, written in the action's transaction."""

from __future__ import annotations

from typing import Any

import asyncpg

from mpp_shared.auth import Principal


async def record(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (actor, roles, counter, action, target_type, target_id, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        principal.subject,
        sorted(principal.roles),
        principal.counter,
        action,
        target_type,
        target_id,
        detail or {},
    )
