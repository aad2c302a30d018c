"""SQL of the Ombudsman's complaint report: one aggregate that counts, per
kind of report and category or OPD, what `domain/reports.py` defines."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from mpp_complaints.domain.reports import Counts, GroupBy

# The first response and the follow-up deadline are kept on each complaint by
# triggers (migration 012), so this reads one index range of complaints.
COUNTS = """
WITH per_complaint AS (
    SELECT c.kind,
           c.{key} AS key,
           c.created_at,
           c.status,
           c.rating,
           c.reopen_count,
           c.first_response_at AS first_response,
           c.followup_due_at AS followup_due
      FROM complaints c
     WHERE c.created_at >= $1 AND c.created_at < $2
)
SELECT kind,
       key,
       count(*) AS complaints,
       count(*) FILTER (WHERE first_response IS NOT NULL) AS responded,
       count(*) FILTER (
           WHERE first_response IS NOT NULL
             AND (followup_due IS NULL OR first_response <= followup_due)
       ) AS on_time,
       count(*) FILTER (
           WHERE first_response IS NULL AND status NOT IN ('closed', 'rejected')
             AND followup_due < $3
       ) AS open_overdue,
       count(*) FILTER (WHERE first_response IS NOT NULL AND reopen_count > 0) AS reopened,
       count(*) FILTER (WHERE status = 'closed' AND rating IS NOT NULL) AS rated,
       COALESCE(sum(rating) FILTER (WHERE status = 'closed'), 0) AS rating_sum,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM first_response - created_at) / 3600.0
       ) FILTER (WHERE first_response IS NOT NULL) AS median_hours
  FROM per_complaint
 GROUP BY kind, key
 ORDER BY kind, key NULLS LAST
"""


async def counts(
    conn: asyncpg.Connection,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    group_by: GroupBy,
) -> list[tuple[str, str | None, Counts, float | None]]:
    """Per kind and group (null: complaints not yet assigned, for OPDs): its
    counts and the median hours from filing to first response."""
    rows = await conn.fetch(COUNTS.format(key=group_by.value), start, end, as_of)
    return [
        (
            r["kind"],
            r["key"],
            Counts(
                complaints=r["complaints"],
                responded=r["responded"],
                on_time=r["on_time"],
                open_overdue=r["open_overdue"],
                reopened=r["reopened"],
                rated=r["rated"],
                rating_sum=int(r["rating_sum"]),
            ),
            None if r["median_hours"] is None else float(r["median_hours"]),
        )
        for r in rows
    ]
