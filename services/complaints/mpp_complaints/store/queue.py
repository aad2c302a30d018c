"""SQL of the officers' work queue (`domain/queue.py` says what it means):
one page of complaints in the order asked for, and the counts per status
under the same filters (from the kept counts, `store/queue_counts.py`, and
the open complaints with a deadline). $1 is always "now" (what is overdue is
decided against it). Never a reporter's contact: `reporter_enc` is not
selected."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from mpp_complaints.domain.queue import FINAL_STATUSES, OVERDUE_STEPS, QueueFilter, Sort

# The same rule as domain.queue.is_overdue and the gauge mpp.complaints.overdue,
# as conditions the partial index complaints_overdue_candidates serves.
OVERDUE_WHERE = (
    f"c.step IN ({', '.join(repr(s) for s in OVERDUE_STEPS)}) "
    f"AND c.status NOT IN ({', '.join(repr(s) for s in FINAL_STATUSES)}) "
    "AND c.step_due_at < $1"
)
# Never NULL: a complaint without a step or deadline is not overdue.
OVERDUE = f"coalesce({OVERDUE_WHERE}, false)"
ITEM_COLUMNS = (
    "c.id, c.complaint_code, c.kind, c.category, c.channel, c.status, c.opd, c.step, c.step_due_at, "
    f"{OVERDUE} AS overdue, c.anonymous, c.confidential, c.tracking_code, c.created_at"
)
ORDER = {
    Sort.OVERDUE_FIRST: (
        "overdue DESC, c.step_due_at ASC NULLS LAST, c.created_at DESC, c.id DESC"
    ),
    Sort.NEWEST: "c.created_at DESC, c.id DESC",
    Sort.OLDEST: "c.created_at ASC, c.id ASC",
}
# Within the overdue and the other complaints, the order of `overdue_first`.
_BY_DEADLINE = "c.step_due_at ASC NULLS LAST, c.created_at DESC, c.id DESC"


def sort_key(sort: Sort, row: Any) -> tuple[Any, ...]:
    """The values of `row` its place in the order `sort` is decided by (what
    a cursor carries)."""
    if sort is Sort.OVERDUE_FIRST:
        return (row["overdue"], row["step_due_at"], row["created_at"], row["id"])
    return (row["created_at"], row["id"])


def _where(
    wanted: QueueFilter, args: list[Any], *, with_status: bool, with_overdue: bool = True
) -> str:
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
    if with_overdue and wanted.overdue is not None:
        conditions.append(OVERDUE if wanted.overdue else f"NOT {OVERDUE}")
    return " AND ".join(conditions)


def _value(args: list[Any], v: Any) -> str:
    args.append(v)
    return f"${len(args)}"


def _after_by_deadline(
    after: tuple[Any, ...], args: list[Any], *, undated: bool = True
) -> list[str]:
    """The rows after (step_due_at, created_at, id) in `_BY_DEADLINE`, as
    conditions each read from where it starts in complaints_queue_order (an
    index range, not a scan from the top that filters out every row before
    the cursor): the rest of the cursor's deadline and the later ones, then
    (`undated`) the complaints without a deadline, last in this order."""
    due, created_at, row_id = after
    later = f"(c.created_at, c.id) < ({_value(args, created_at)}, {_value(args, row_id)})"
    if due is None:
        return [f"c.step_due_at IS NULL AND {later}"]
    due_at = _value(args, due)
    dated = f"c.step_due_at >= {due_at} AND (c.step_due_at > {due_at} OR {later})"
    return [dated, "c.step_due_at IS NULL"] if undated else [dated]


async def page(
    conn: asyncpg.Connection,
    wanted: QueueFilter,
    *,
    now: datetime,
    sort: Sort,
    limit: int,
    offset: int = 0,
    after: tuple[Any, ...] | None = None,
) -> list[asyncpg.Record]:
    """One page of the complaints `wanted`, in the order `sort`: from
    `offset` on, or after the row whose `sort_key` is `after` (keyset, an
    index range scan at any depth)."""
    args: list[Any] = [now]
    where = _where(wanted, args, with_status=True)
    select = f"SELECT {ITEM_COLUMNS} FROM complaints c WHERE {where}"
    if after is None and sort is not Sort.OVERDUE_FIRST:
        sql = f"{select} ORDER BY {ORDER[sort]} LIMIT {int(limit)} OFFSET {int(offset)}"
    elif sort is not Sort.OVERDUE_FIRST:
        assert after is not None
        op = "<" if sort is Sort.NEWEST else ">"
        key = f"(c.created_at, c.id) {op} ({_value(args, after[0])}, {_value(args, after[1])})"
        sql = f"{select} AND {key} ORDER BY {ORDER[sort]} LIMIT {int(limit)}"
    else:
        # The overdue complaints, then the others, each read in deadline
        # order from its own index rather than sorting the whole queue.
        # OFFSET skips rows of both parts together, so each part reads
        # `offset + limit` rows at most.
        parts = []
        reach = int(limit) + int(offset)

        def part(overdue: str, conditions: list[str]) -> None:
            for cond in conditions:
                parts.append(
                    f"({select} AND {overdue} AND {cond} ORDER BY {_BY_DEADLINE} LIMIT {reach})"
                )

        # The overdue by their own conditions, not the coalesce() of the
        # column: those imply complaints_overdue_candidates' predicate, so
        # the part reads that small index, not the whole queue's.
        if after is None:
            part(OVERDUE_WHERE, ["true"])
            part(f"NOT {OVERDUE}", ["true"])
        elif after[0]:  # within the overdue (all dated): the rest, then all the others
            part(OVERDUE_WHERE, _after_by_deadline(after[1:], args, undated=False))
            part(f"NOT {OVERDUE}", ["true"])
        else:
            part(f"NOT {OVERDUE}", _after_by_deadline(after[1:], args))
        sql = (
            f"SELECT * FROM ({' UNION ALL '.join(parts)}) c "
            f"ORDER BY {ORDER[sort]} LIMIT {int(limit)} OFFSET {int(offset)}"
        )
    rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
    return rows


# The kept counts and the deltas not folded yet, as one set of rows.
_KEPT = (
    "(SELECT status, category, opd, channel, kind, complaints FROM complaint_queue_counts "
    "UNION ALL "
    "SELECT status, category, opd, channel, kind, complaints FROM complaint_queue_deltas)"
)
# Per status: (complaints, overdue) from the kept count `k` and the overdue `l`,
# by the `overdue` filter (None: both kinds).
_SPLIT = {
    None: ("k.complaints", "coalesce(l.overdue, 0)"),
    True: ("coalesce(l.overdue, 0)", "coalesce(l.overdue, 0)"),
    False: ("k.complaints - coalesce(l.overdue, 0)", "0"),
}


async def counts(
    conn: asyncpg.Connection, wanted: QueueFilter, *, now: datetime
) -> list[asyncpg.Record]:
    """Per status: how many complaints match every filter but the status, and
    how many of them are overdue. The counts come from the kept counts; only
    the overdue complaints are read, open and past their step's deadline."""
    args: list[Any] = [now]
    where = _where(wanted, args, with_status=False, with_overdue=False)
    complaints, overdue = _SPLIT[wanted.overdue]
    sql = (
        f"WITH k AS (SELECT c.status, sum(c.complaints) AS complaints FROM {_KEPT} c "
        f"WHERE {where} GROUP BY c.status), "
        f"l AS (SELECT c.status, count(*) AS overdue FROM complaints c "
        f"WHERE {OVERDUE_WHERE} AND {where} GROUP BY c.status) "
        f"SELECT k.status, ({complaints})::bigint AS complaints, ({overdue})::bigint AS overdue "
        "FROM k LEFT JOIN l USING (status)"
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
