"""SQL of the officers' work queue (`domain/queue.py` says what it means):
one page of complaints in the order asked for, and the counts per status
under the same filters. $1 is always "now" (what is overdue is decided
against it). Never a reporter's contact: `reporter_enc` is not selected."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from mpp_complaints.domain.queue import FINAL_STATUSES, OVERDUE_STEPS, QueueFilter, Sort

# The same rule as domain.queue.is_overdue and the gauge mpp.complaints.overdue.
# Never NULL: a complaint without a step or deadline is not overdue.
OVERDUE = (
    f"coalesce(c.step IN ({', '.join(repr(s) for s in OVERDUE_STEPS)}) "
    f"AND c.status NOT IN ({', '.join(repr(s) for s in FINAL_STATUSES)}) "
    "AND c.step_due_at < $1, false)"
)
ITEM_COLUMNS = (
    "c.id, c.complaint_code, c.kind, c.category, c.channel, c.status, c.opd, c.step, c.step_due_at, "
    f"{OVERDUE} AS overdue, c.anonymous, c.confidential, c.tracking_code, c.created_at"
)
ORDER = {
    Sort.OVERDUE_FIRST: "overdue DESC, c.step_due_at ASC NULLS LAST, c.created_at DESC, c.id",
    Sort.NEWEST: "c.created_at DESC, c.id",
    Sort.OLDEST: "c.created_at ASC, c.id",
}


def _where(wanted: QueueFilter, args: list[Any], *, with_status: bool) -> str:
    """The filters as SQL conditions, their values appended to `args`."""
    conditions = ["true"]

    def value(v: Any) -> str:
        args.append(v)
        return f"${len(args)}"

    if with_status and wanted.statuses:
        conditions.append(f"c.status = ANY({value(list(wanted.statuses))}::text[])")
    if wanted.category is not None:
        conditions.append(f"c.category = {value(wanted.category)}")
    if wanted.opd is not None:
        conditions.append(f"c.opd = {value(wanted.opd)}")
    if wanted.channel is not None:
        conditions.append(f"c.channel = {value(wanted.channel)}")
    if wanted.kind is not None:
        conditions.append(f"c.kind = {value(wanted.kind)}")
    if wanted.overdue is not None:
        conditions.append(OVERDUE if wanted.overdue else f"NOT {OVERDUE}")
    return " AND ".join(conditions)


async def page(
    conn: asyncpg.Connection,
    wanted: QueueFilter,
    *,
    now: datetime,
    sort: Sort,
    limit: int,
    offset: int,
) -> list[asyncpg.Record]:
    """One page of the complaints `wanted`, in the order `sort`."""
    args: list[Any] = [now]
    where = _where(wanted, args, with_status=True)
    sql = (
        f"SELECT {ITEM_COLUMNS} FROM complaints c WHERE {where} "
        f"ORDER BY {ORDER[sort]} LIMIT {int(limit)} OFFSET {int(offset)}"
    )
    rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
    return rows


async def counts(
    conn: asyncpg.Connection, wanted: QueueFilter, *, now: datetime
) -> list[asyncpg.Record]:
    """Per status: how many complaints match every filter but the status, and
    how many of them are overdue."""
    args: list[Any] = [now]
    where = _where(wanted, args, with_status=False)
    sql = (
        f"SELECT c.status, count(*) AS complaints, count(*) FILTER (WHERE {OVERDUE}) AS overdue "
        f"FROM complaints c WHERE {where} GROUP BY c.status"
    )
    rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
    return rows


async def opd_of(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, *, lock: bool
) -> asyncpg.Record | None:
    """The complaint's OPD (a row, None when there is no such complaint),
    locked for the caller's transaction when `lock`."""
    return await conn.fetchrow(
        "SELECT opd FROM complaints WHERE id = $1" + (" FOR UPDATE" if lock else ""), complaint_id
    )
