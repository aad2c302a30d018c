"""Append-only audit trail of officer actions: written in the action's own
transaction (`record`), readable by a supervisor (`read_trail`, served by
`mpp_shared.web.audit`, which every service mounts). Nothing here deletes an
entry or changes who did what; the sealer (`mpp_shared.audit_chain`) chains
each entry after its commit, and `erase_detail` empties a sealed entry's
detail through an audited erasure that keeps the chain intact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from mpp_shared import paging
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict, NotFound
from mpp_shared.sql_rows import Row

_INTO = "audit_log (actor, roles, counter, action, target_type, target_id, detail)"
_VALUES = "$1, $2, $3, $4, $5, $6, $7"
_INSERT = f"INSERT INTO {_INTO} VALUES ({_VALUES}) RETURNING id"
# The action of the entry that tells of an erasure (target: the erased entry's id).
DETAIL_ERASED = "audit.detail_erased"
_ERASE = """
UPDATE audit_log SET detail = '{}'::jsonb, detail_erased_by = $2
WHERE id = $1 AND position IS NOT NULL AND detail_erased_by IS NULL
"""

# Every filter is optional ($n IS NULL matches all); newest first.
_MATCHING = """
FROM audit_log
WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR counter = $2)
  AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR target_type = $4)
  AND ($5::text IS NULL OR target_id = $5)
  AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
"""
_READ_PAGE = "SELECT *" + _MATCHING + "ORDER BY id DESC LIMIT $8 OFFSET $9"
# The entries matching, counted up to one past paging.COUNT_CAP.
_COUNT = paging.capped_count(_MATCHING)
# The entries before the entry $9 (keyset: an index range scan at any depth,
# no total).
_READ_AFTER = """
SELECT * FROM audit_log
WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR counter = $2)
  AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR target_type = $4)
  AND ($5::text IS NULL OR target_id = $5)
  AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
  AND id < $9
ORDER BY id DESC LIMIT $8
"""
# The one order of the trail, named in its cursors.
TRAIL_SORT = "audit.newest"


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
    exists exactly when the action it tells of was committed. It is chained
    by the sealer after the commit, so no action waits for another's."""
    await _append(conn, principal, action, target_type, target_id, detail)


def entry(
    principal: Principal,
    *,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any] | None = None,
) -> Row:
    """The entry `record` appends, as a row to write with the action's own
    statement (`mpp_shared.sql_rows`): it exists exactly when that statement
    wrote the action."""
    return Row(_INTO, _VALUES, _values(principal, action, target_type, target_id, detail))


def _values(
    principal: Principal,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any] | None,
) -> tuple[object, ...]:
    return (
        principal.subject,
        sorted(principal.roles),
        principal.counter,
        action,
        target_type,
        target_id,
        detail or {},
    )


async def _append(
    conn: asyncpg.Connection,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any] | None,
) -> int:
    entry_id: int = await conn.fetchval(
        _INSERT, *_values(principal, action, target_type, target_id, detail)
    )
    return entry_id


async def erase_detail(
    conn: asyncpg.Connection, principal: Principal, audit_id: int, *, reason: str
) -> int:
    """Empty the detail of sealed entry `audit_id` (personal data whose
    purpose is over) and append the entry `audit.detail_erased` telling who
    erased it and why; its id is returned. The erased entry keeps who, what,
    when and its detail's digest, so the chain still verifies. An entry not
    sealed yet, or already erased, is refused (Conflict): retry once sealed."""
    found = await conn.fetchrow(
        "SELECT position, detail_erased_by FROM audit_log WHERE id = $1", audit_id
    )
    if found is None:
        raise NotFound("audit_entry_not_found", "Catatan audit tidak ada", "No such audit entry")
    if found["position"] is None or found["detail_erased_by"] is not None:
        raise Conflict(
            "audit_entry_not_erasable",
            "Catatan audit belum disegel atau sudah dihapus rinciannya",
            "The audit entry is not sealed yet or its detail is already erased",
        )
    erasure = await _append(
        conn, principal, DETAIL_ERASED, "audit_log", str(audit_id), {"reason": reason}
    )
    await conn.execute(_ERASE, audit_id, erasure)
    return erasure


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
    # Its place in the sealed chain; None until the sealer reaches it.
    position: int | None
    # The entry of the audited erasure that emptied `detail`, if any.
    detail_erased_by: int | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int | None = Field(
        description="Entries matching; counted on a page asked for without `cursor`, "
        "null on the pages a cursor leads to; at most 10 000 (see `total_capped`)"
    )
    total_capped: bool = Field(
        default=False,
        description="More entries match than `total` says (it stops counting at 10 000)",
    )
    page: int
    page_size: int
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page (keyset); null on the last page",
    )


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
    pool: asyncpg.Pool,
    filters: AuditFilters,
    *,
    page: int,
    page_size: int,
    cursor: str | None = None,
) -> AuditPage:
    """One page of the entries matching `filters`, newest first: the one
    after `cursor` when given (keyset), else page `page` (1-based) with the
    number of all matching entries."""
    args = (
        filters.actor,
        filters.counter,
        filters.action,
        filters.target_type,
        filters.target_id,
        filters.since,
        filters.until,
        page_size + 1,
    )
    counted: int | None = None
    if cursor is not None:
        (after,) = paging.decode(cursor, TRAIL_SORT, (paging.INT,))
        rows = await pool.fetch(_READ_AFTER, *args, after)
    else:
        rows = await pool.fetch(_READ_PAGE, *args, (page - 1) * page_size)
        counted = await pool.fetchval(_COUNT, *args[:-1])
    shown, following = paging.page_of(rows, page_size, TRAIL_SORT, lambda r: (r["id"],))
    total, total_capped = paging.capped(counted)
    return AuditPage(
        items=[AuditEntry(**{k: r[k] for k in AuditEntry.model_fields}) for r in shown],
        total=total,
        total_capped=total_capped,
        page=page,
        page_size=page_size,
        next_cursor=following,
    )
