"""The Ombudsman's complaint report: per category or per OPD, for complaints
filed in [start, end).

One SQL aggregate counts; `figures` does the arithmetic. Per complaint:

- first response: when its first auto-close step started (each response
  starts one), else `responded_at`;
- follow-up deadline: the due moment of its first follow-up step;
- responded on time: first response at or before that deadline (or no
  deadline was ever set);
- open overdue: not responded, not closed or rejected, follow-up deadline
  before `as_of` — counted late, so unanswered work is never hidden;
- reopened: responded and reopened at least once;
- rated: closed with a rating.

on_time_share = on_time / (responded + open_overdue); reopen_rate =
reopened / responded; average_rating = rating_sum / rated; a zero
denominator gives null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg


class GroupBy(StrEnum):
    CATEGORY = "category"
    OPD = "opd"


@dataclass(frozen=True)
class Counts:
    complaints: int
    responded: int
    on_time: int
    open_overdue: int
    reopened: int
    rated: int
    rating_sum: int


@dataclass(frozen=True)
class Figures:
    complaints: int
    responded: int
    responded_on_time: int
    open_overdue: int
    reopened: int
    on_time_share: float | None
    median_hours_to_respond: float | None
    reopen_rate: float | None
    average_rating: float | None


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else round(numerator / denominator, 4)


def figures(counts: Counts, median_hours: float | None) -> Figures:
    """The report's arithmetic on one group's counts (zero denominators → None)."""
    return Figures(
        complaints=counts.complaints,
        responded=counts.responded,
        responded_on_time=counts.on_time,
        open_overdue=counts.open_overdue,
        reopened=counts.reopened,
        on_time_share=_ratio(counts.on_time, counts.responded + counts.open_overdue),
        median_hours_to_respond=None if median_hours is None else round(median_hours, 2),
        reopen_rate=_ratio(counts.reopened, counts.responded),
        average_rating=_ratio(counts.rating_sum, counts.rated),
    )


_SQL = """
WITH per_complaint AS (
    SELECT c.{key} AS key,
           c.created_at,
           c.status,
           c.rating,
           c.reopen_count,
           COALESCE(
               (SELECT min(d.started_at) FROM complaint_deadlines d
                 WHERE d.complaint_id = c.id AND d.step = 'auto_close'),
               c.responded_at
           ) AS first_response,
           (SELECT d.due_at FROM complaint_deadlines d
             WHERE d.complaint_id = c.id AND d.step = 'follow_up'
             ORDER BY d.started_at LIMIT 1) AS followup_due
      FROM complaints c
     WHERE c.created_at >= $1 AND c.created_at < $2
)
SELECT key,
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
 GROUP BY key
 ORDER BY key NULLS LAST
"""


@dataclass(frozen=True)
class Line:
    key: str | None
    figures: Figures


async def complaint_report(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    group_by: GroupBy,
) -> list[Line]:
    """One line per category (or OPD; null for complaints not yet assigned)."""
    rows = await conn.fetch(_SQL.format(key=group_by.value), start, end, as_of)
    return [
        Line(
            key=r["key"],
            figures=figures(
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
            ),
        )
        for r in rows
    ]
