"""The officers' work queue of complaints (`domain/queue.py`): complaint
officers and supervisors list every complaint, an OPD's system only those
assigned to its OPD (`usecases/scope.py`). An item never holds the
reporter's identity or contact."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

import asyncpg
from pydantic import BaseModel, Field

from mpp_complaints.domain.queue import STATUSES, QueueFilter, Sort
from mpp_complaints.store import queue, queue_counts
from mpp_complaints.usecases.lifecycle import now
from mpp_complaints.usecases.scope import scoped_opd
from mpp_shared import paging
from mpp_shared.auth import Principal
from mpp_shared.kept_counts import fold_task
from mpp_shared.runtime import BackgroundTask

# What the sort key of each order is made of, as a cursor carries it.
_KINDS = {
    Sort.OVERDUE_FIRST: (
        paging.BOOL,
        paging.NULLABLE_TIMESTAMP,
        paging.TIMESTAMP,
        paging.UUID,
    ),
    Sort.NEWEST: (paging.TIMESTAMP, paging.UUID),
    Sort.OLDEST: (paging.TIMESTAMP, paging.UUID),
}


def _cursor_sort(sort: Sort) -> str:
    return f"complaints.{sort.value}"


class QueueItem(BaseModel):
    """A complaint in the queue; never the reporter's name or contact."""

    id: uuid.UUID
    complaint_code: str
    kind: str
    category: str
    channel: str
    status: str
    opd: str | None
    step: str | None = Field(
        description="The running step: verification, follow_up, information, auto_close"
    )
    step_due_at: datetime | None = Field(description="The running step's deadline")
    overdue: bool = Field(
        description="The verification, follow-up or information step is past its deadline"
    )
    anonymous: bool
    confidential: bool
    tracking_code: str | None
    created_at: datetime


class QueueCounts(BaseModel):
    by_status: dict[str, int] = Field(
        description="Per status (every status, 0 included), under every filter but `status`"
    )
    overdue: int = Field(description="Overdue complaints under every filter, `status` included")


class ComplaintQueue(BaseModel):
    items: list[QueueItem]
    total: int = Field(description="Complaints under every filter, on all pages")
    page: int
    page_size: int
    sort: Sort
    counts: QueueCounts
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` (with the same `sort`) for the next page; "
        "null on the last page",
    )


async def list_queue(
    pool: asyncpg.Pool,
    wanted: QueueFilter,
    *,
    viewer: Principal,
    sort: Sort = Sort.OVERDUE_FIRST,
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
) -> ComplaintQueue:
    """One page of the queue and its counts, read in one snapshot; Forbidden
    for an OPD system naming no OPD, or asking for another OPD's."""
    wanted = replace(wanted, opd=scoped_opd(viewer, wanted.opd))
    after = None if cursor is None else paging.decode(cursor, _cursor_sort(sort), _KINDS[sort])
    at = now()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        rows = await queue.page(
            conn,
            wanted,
            now=at,
            sort=sort,
            limit=page_size + 1,
            offset=(page - 1) * page_size,
            after=after,
        )
        per_status = await queue.counts(conn, wanted, now=at)
    shown, following = paging.page_of(
        rows, page_size, _cursor_sort(sort), lambda r: queue.sort_key(sort, r)
    )
    by_status = dict.fromkeys(STATUSES, 0)
    in_force = set(wanted.statuses or STATUSES)
    overdue = total = 0
    for row in per_status:
        by_status[row["status"]] = row["complaints"]
        if row["status"] in in_force:
            total += row["complaints"]
            overdue += row["overdue"]
    return ComplaintQueue(
        items=[QueueItem(**{k: r[k] for k in QueueItem.model_fields}) for r in shown],
        total=total,
        page=page,
        page_size=page_size,
        sort=sort,
        counts=QueueCounts(by_status=by_status, overdue=overdue),
        next_cursor=following,
    )


def counts_fold_task(interval: float) -> BackgroundTask:
    """The background task that folds the queue counts' deltas
    (`mpp_complaints.store.queue_counts`) every `interval` seconds."""
    return fold_task("queue_counts_fold", queue_counts.fold, interval)
