"""Append-only audit trail of officer actions: written in the action's own
transaction, readable by a supervisor (every service mounts `router`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.web import MAX_PAGE, PoolDep


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


# --- the supervisor's view ----------------------------------------------------


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    roles: list[str]
    counter: str | None
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    page: int
    page_size: int


router = APIRouter(prefix="/v1/audit", tags=["audit"])
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]


@router.get(
    "", response_model=AuditPage, summary="Who did what, when, at which counter (read-only)"
)
async def read_audit_trail(
    pool: PoolDep,
    _supervisor: Supervisor,
    actor: str | None = None,
    counter: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    rows = await pool.fetch(
        """
        SELECT count(*) OVER () AS total, * FROM audit_log
        WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR counter = $2)
          AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR target_type = $4)
          AND ($5::text IS NULL OR target_id = $5)
          AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
        ORDER BY id DESC LIMIT $8 OFFSET $9
        """,
        actor,
        counter,
        action,
        target_type,
        target_id,
        since,
        until,
        page_size,
        (page - 1) * page_size,
    )
    return AuditPage(
        items=[AuditEntry(**{k: r[k] for k in AuditEntry.model_fields}) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )
