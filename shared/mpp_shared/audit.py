"""Append-only audit trail of officer actions: written in the action's own
transaction (`record`), readable by a supervisor (`read_trail`, served by
`mpp_shared.web.audit`, which every service mounts). Nothing here updates or
deletes an entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from mpp_shared.auth import Principal

_INSERT = (
    "INSERT INTO audit_log (actor, roles, counter, action, target_type, target_id, detail) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)

# Every filter is optional ($n IS NULL matches all); newest first.
_READ_PAGE = """
SELECT count(*) OVER () AS total, * FROM audit_log
WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR counter = $2)
  AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR target_type = $4)
  AND ($5::text IS NULL OR target_id = $5)
  AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
ORDER BY id DESC LIMIT $8 OFFSET $9
"""


async def record(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry on `conn`, inside the caller's transaction: the entry
    exists exactly when the action it tells of was committed."""
    await conn.execute(
        _INSERT,
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


@dataclass(frozen=True)
class AuditFilters:
    """Which entries a supervisor asks for; a filter left None matches all.
    `since` is inclusive, `until` exclusive."""

    actor: str | None = None
    counter: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def read_trail(
    pool: asyncpg.Pool, filters: AuditFilters, *, page: int, page_size: int
) -> AuditPage:
    """One page (1-based) of the entries matching `filters`, newest first,
    with the number of all matching entries."""
    rows = await pool.fetch(
        _READ_PAGE,
        filters.actor,
        filters.counter,
        filters.action,
        filters.target_type,
        filters.target_id,
        filters.since,
        filters.until,
        page_size,
        (page - 1) * page_size,
    )
    return AuditPage(
        items=[AuditEntry(**{k: r[k] for k in AuditEntry.model_fields}) for r in rows],
        total=rows[0]["total"] if rows else 0,
        page=page,
        page_size=page_size,
    )
