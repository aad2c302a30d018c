"""The SQL aggregates of the SLA compliance and backlog reports: one
statement each, counted in the database, never job by job. What a job counts
as once it has an outcome, and documents left uncollected, come from the kept
counts (`mpp_documents.store.report_counts`); the rules they count and the
arithmetic on the counts are in `mpp_documents.domain.reports`. Reads only; a
pool or a connection will do.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import asyncpg

from mpp_documents.domain.reports import (
    BacklogGroup,
    GroupBy,
    Lateness,
    Period,
    SlaCounts,
    SlaGroup,
)

# The grouping columns of each choice; only these constants ever reach the SQL.
GROUP_COLUMNS: dict[GroupBy, tuple[str, ...]] = {
    GroupBy.SERVICE: ("service_code",),
    GroupBy.POINT: ("pickup_point",),
    GroupBy.SERVICE_POINT: ("service_code", "pickup_point"),
}

# Closed outcomes come from the kept counts (migration 012, store.report_counts:
# daily rows plus the deltas not folded yet), open jobs from their partial
# index: what is read follows the days and the jobs still open, not every job
# of the period.
SLA_SQL = """
WITH scoped AS (
    SELECT service_code, pickup_point, cancelled, no_promise, on_time, late,
           0 AS open_overdue, 0 AS open_not_yet_due
    FROM sla_daily WHERE day >= $4 AND day < $5
    UNION ALL
    SELECT service_code, pickup_point, cancelled, no_promise, on_time, late, 0, 0
    FROM report_count_deltas WHERE day >= $4 AND day < $5
    UNION ALL
    SELECT service_code, pickup_point, 0, 0, 0, 0, (due_at < $3)::int, (due_at >= $3)::int
    FROM jobs
    WHERE sla_outcome(state, due_at, ready_at, picked_up_at) IS NULL
      AND due_at >= $1 AND due_at < $2
)
SELECT {select_keys},
       GROUPING({grouping_keys}) <> 0 AS is_total,
       coalesce(sum(cancelled), 0) AS cancelled,
       coalesce(sum(no_promise), 0) AS no_promise,
       coalesce(sum(on_time), 0) AS closed_on_time,
       coalesce(sum(late), 0) AS closed_late,
       coalesce(sum(open_overdue), 0) AS open_overdue,
       coalesce(sum(open_not_yet_due), 0) AS open_not_yet_due
FROM scoped
GROUP BY GROUPING SETS (({grouping_keys}), ())
-- A group whose kept counts went back to zero (its jobs moved) is no line.
HAVING GROUPING({grouping_keys}) <> 0
    OR sum(cancelled) + sum(no_promise) + sum(on_time) + sum(late)
       + sum(open_overdue) + sum(open_not_yet_due) > 0
"""

# The hours late of each late job of the period, from their partial index:
# exact percentiles need every value, so this is the one part of the report
# that grows with the period's late jobs (a year at 5 M applications: 180 k).
LATENESS_SQL = """
SELECT {select_keys},
       GROUPING({grouping_keys}) <> 0 AS is_total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS late_median_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS late_p90_hours
FROM (
    SELECT service_code, pickup_point,
           extract(epoch FROM coalesce(ready_at, picked_up_at) - due_at) / 3600 AS hours
    FROM jobs
    WHERE sla_outcome(state, due_at, ready_at, picked_up_at) = 'late'
      AND due_at >= $1 AND due_at < $2
) late
GROUP BY GROUPING SETS (({grouping_keys}), ())
"""
# Sorting a year's lateness in memory rather than on disk halves the report.
LATENESS_WORK_MEM = "64MB"


def _formatted(sql: str, group_by: GroupBy) -> str:
    columns = GROUP_COLUMNS[group_by]
    select_keys = ", ".join(
        c if c in columns else f"NULL::text AS {c}" for c in ("service_code", "pickup_point")
    )
    return sql.format(select_keys=select_keys, grouping_keys=", ".join(columns))


def sla_query(group_by: GroupBy) -> str:
    return _formatted(SLA_SQL, group_by)


def lateness_query(group_by: GroupBy) -> str:
    return _formatted(LATENESS_SQL, group_by)


def _counts(row: asyncpg.Record) -> SlaCounts:
    return SlaCounts(**{f.name: int(row[f.name]) for f in fields(SlaCounts)})


def _lateness(row: asyncpg.Record) -> Lateness:
    return Lateness(row["late_median_hours"], row["late_p90_hours"])


async def sla_groups(
    db: asyncpg.Pool | asyncpg.Connection, *, period: Period, as_of: datetime, group_by: GroupBy
) -> tuple[list[SlaGroup], Lateness]:
    """The counts of each group, and the lateness over all groups (percentiles
    cannot be summed, so the grouping set () computes them). Counts and
    lateness are read in one snapshot."""
    if isinstance(db, asyncpg.Connection):
        return await _sla_groups(db, period, as_of, group_by)
    async with db.acquire() as conn:
        return await _sla_groups(conn, period, as_of, group_by)


async def _sla_groups(
    conn: asyncpg.Connection, period: Period, as_of: datetime, group_by: GroupBy
) -> tuple[list[SlaGroup], Lateness]:
    async def read() -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
        return await conn.fetch(
            sla_query(group_by), period.start, period.end, as_of, period.first_day, period.end_day
        ), await conn.fetch(lateness_query(group_by), period.start, period.end)

    if conn.is_in_transaction():  # the caller's transaction is the snapshot
        rows, late = await read()
    else:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(f"SET LOCAL work_mem = '{LATENESS_WORK_MEM}'")
            rows, late = await read()
    lateness = {(r["service_code"], r["pickup_point"], r["is_total"]): _lateness(r) for r in late}

    def of(r: asyncpg.Record) -> Lateness:
        return lateness.get((r["service_code"], r["pickup_point"], r["is_total"]), Lateness())

    groups = [
        SlaGroup(r["service_code"], r["pickup_point"], _counts(r), of(r))
        for r in rows
        if not r["is_total"]
    ]
    overall = next((of(r) for r in rows if r["is_total"]), Lateness())
    return groups, overall


# Jobs in production or in their pickup window, from their partial index;
# documents left uncollected (years of them at a busy point) from their kept
# counts, with the oldest per point and service from an index. An uncollected
# document is a ready_for_pickup job: both parts of a point add up.
BACKLOG_SQL = """
SELECT state, pickup_point, sum(open) AS open, sum(overdue) AS overdue,
       min(oldest_created_at) AS oldest_created_at
FROM (
    SELECT state, pickup_point,
           count(*) AS open,
           count(*) FILTER (WHERE coalesce(ready_at, picked_up_at) IS NULL AND due_at < $1)
               AS overdue,
           min(created_at) AS oldest_created_at
    FROM jobs
    -- Written as the predicate of jobs_in_progress_by_point (migration 012).
    WHERE state NOT IN ('picked_up', 'cancelled') AND NOT job_uncollected(state, uncollected_at)
      AND ($2::text IS NULL OR pickup_point = $2)
      AND ($3::text IS NULL OR service_code = $3)
    GROUP BY state, pickup_point
    UNION ALL
    SELECT 'ready_for_pickup', c.pickup_point, c.waiting, 0, c.oldest
    FROM (
        SELECT service_code, pickup_point, sum(waiting) AS waiting,
               (SELECT min(j.created_at) FROM jobs j
                WHERE job_uncollected(j.state, j.uncollected_at)
                  AND coalesce(j.pickup_point, '') = coalesce(kept.pickup_point, '')
                  AND j.service_code = kept.service_code) AS oldest
        FROM (
            SELECT service_code, pickup_point, waiting FROM uncollected_counts
            UNION ALL
            SELECT service_code, pickup_point, uncollected FROM report_count_deltas
            WHERE uncollected <> 0
        ) kept
        WHERE ($2::text IS NULL OR pickup_point = $2)
          AND ($3::text IS NULL OR service_code = $3)
        GROUP BY service_code, pickup_point
        HAVING sum(waiting) > 0
    ) c
) parts
GROUP BY state, pickup_point
"""


async def backlog_groups(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    as_of: datetime,
    pickup_point: str | None,
    service_code: str | None,
) -> list[BacklogGroup]:
    rows = await db.fetch(BACKLOG_SQL, as_of, pickup_point, service_code)
    return [
        BacklogGroup(
            state=r["state"],
            pickup_point=r["pickup_point"],
            open=int(r["open"]),
            overdue=int(r["overdue"]),
            oldest_created_at=r["oldest_created_at"],
        )
        for r in rows
    ]
