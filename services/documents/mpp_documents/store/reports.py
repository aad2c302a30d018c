"""The SQL aggregates of the SLA compliance and backlog reports: one GROUP BY
with FILTER clauses each, counted in the database, never job by job. The
rules they count and the arithmetic on the counts are in
`mpp_documents.domain.reports`. Reads only; a pool or a connection will do.
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

SLA_SQL = """
WITH scoped AS (
    SELECT service_code, pickup_point, due_at,
           state = 'cancelled' AS cancelled,
           coalesce(ready_at, picked_up_at) AS ready
    FROM jobs
    WHERE (due_at >= $1 AND due_at < $2)
       OR (due_at IS NULL AND created_at >= $1 AND created_at < $2)
)
SELECT {select_keys},
       GROUPING({grouping_keys}) <> 0 AS is_total,
       count(*) FILTER (WHERE cancelled) AS cancelled,
       count(*) FILTER (WHERE NOT cancelled AND due_at IS NULL) AS no_promise,
       count(*) FILTER (WHERE NOT cancelled AND ready <= due_at) AS closed_on_time,
       count(*) FILTER (WHERE NOT cancelled AND ready > due_at) AS closed_late,
       count(*) FILTER (WHERE NOT cancelled AND ready IS NULL AND due_at < $3) AS open_overdue,
       count(*) FILTER (WHERE NOT cancelled AND ready IS NULL AND due_at >= $3)
           AS open_not_yet_due,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ready - due_at) / 3600)
           FILTER (WHERE NOT cancelled AND ready > due_at) AS late_median_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM ready - due_at) / 3600)
           FILTER (WHERE NOT cancelled AND ready > due_at) AS late_p90_hours
FROM scoped
GROUP BY GROUPING SETS (({grouping_keys}), ())
"""


def sla_query(group_by: GroupBy) -> str:
    columns = GROUP_COLUMNS[group_by]
    select_keys = ", ".join(
        c if c in columns else f"NULL::text AS {c}" for c in ("service_code", "pickup_point")
    )
    return SLA_SQL.format(select_keys=select_keys, grouping_keys=", ".join(columns))


def _counts(row: asyncpg.Record) -> SlaCounts:
    return SlaCounts(**{f.name: int(row[f.name]) for f in fields(SlaCounts)})


def _lateness(row: asyncpg.Record) -> Lateness:
    return Lateness(row["late_median_hours"], row["late_p90_hours"])


async def sla_groups(
    db: asyncpg.Pool | asyncpg.Connection, *, period: Period, as_of: datetime, group_by: GroupBy
) -> tuple[list[SlaGroup], Lateness]:
    """The counts of each group, and the lateness over all groups (percentiles
    cannot be summed, so the grouping set () computes them)."""
    rows = await db.fetch(sla_query(group_by), period.start, period.end, as_of)
    groups = [
        SlaGroup(r["service_code"], r["pickup_point"], _counts(r), _lateness(r))
        for r in rows
        if not r["is_total"]
    ]
    overall = next((_lateness(r) for r in rows if r["is_total"]), Lateness())
    return groups, overall


BACKLOG_SQL = """
SELECT state, pickup_point,
       count(*) AS open,
       count(*) FILTER (WHERE coalesce(ready_at, picked_up_at) IS NULL AND due_at < $1)
           AS overdue,
       min(created_at) AS oldest_created_at
FROM jobs
-- Open = neither picked up nor cancelled; written as the predicate of the
-- partial index jobs_open_by_point (migration 007) so the planner can use it.
WHERE state NOT IN ('picked_up', 'cancelled')
  AND ($2::text IS NULL OR pickup_point = $2)
  AND ($3::text IS NULL OR service_code = $3)
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
            open=r["open"],
            overdue=r["overdue"],
            oldest_created_at=r["oldest_created_at"],
        )
        for r in rows
    ]
