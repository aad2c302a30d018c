"""SLA compliance and backlog reports over the production jobs.

Each report is one SQL aggregate (GROUP BY with FILTER clauses) feeding a pure
function that does the arithmetic; no job is loaded into Python one by one.

SLA compliance, for the jobs whose promise (`due_at`) falls in the period:

- closed      = the document became ready for pickup (`ready_at`, or
                `picked_up_at` for a job collected without a recorded
                `ready_at`): the promise to the citizen is that the document
                is READY by `due_at`;
- on time     = ready at or before `due_at`; late otherwise;
- open overdue  = not ready, not cancelled, `due_at` before `as_of`;
- open not yet due = not ready, not cancelled, `due_at` at or after `as_of`
                (informational, not in the share);
- cancelled   = excluded from the share, counted apart;
- no promise  = jobs without `due_at`, excluded from the share, counted apart
                (they have no due date, so they fall in the period by
                `created_at`).

    on_time_share = closed on time / (closed on time + closed late + open overdue)

so work that is overdue and still open is never hidden; the share is None
when that denominator is 0. The period is [from, to) in calendar days of the
regency's time (WIB, Asia/Jakarta). The jobs' current states are reported;
`as_of` is the moment open work is judged overdue against.

Backlog: open jobs (neither picked up nor cancelled) per state and pickup
point, with the oldest `created_at` and how many are overdue (not yet ready
and past `due_at`, the same rule as above).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import asyncpg

from mpp_documents.domain.jobs import JobState

ZONE = ZoneInfo("Asia/Jakarta")
SHARE_DECIMALS = 4
HOURS_DECIMALS = 2


class GroupBy(StrEnum):
    SERVICE = "service"
    POINT = "point"
    SERVICE_POINT = "service_point"


# The grouping columns of each choice; only these constants ever reach the SQL.
_GROUP_COLUMNS: dict[GroupBy, tuple[str, ...]] = {
    GroupBy.SERVICE: ("service_code",),
    GroupBy.POINT: ("pickup_point",),
    GroupBy.SERVICE_POINT: ("service_code", "pickup_point"),
}


# --- period -------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[first_day, end_day) in WIB and the instants they stand for."""

    first_day: date
    end_day: date  # exclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=ZONE)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day, time(0), tzinfo=ZONE)

    @property
    def is_empty(self) -> bool:
        return self.first_day >= self.end_day


def local_as_of(as_of: datetime) -> datetime:
    """An aware moment; a naive one is read as WIB."""
    return as_of.replace(tzinfo=ZONE) if as_of.tzinfo is None else as_of


def resolve_period(first_day: date | None, end_day: date | None, as_of: datetime) -> Period:
    """Defaults: from the first day of `as_of`'s month up to and including
    `as_of`'s day (month to date, in WIB)."""
    today = local_as_of(as_of).astimezone(ZONE).date()
    return Period(
        first_day=first_day if first_day is not None else today.replace(day=1),
        end_day=end_day if end_day is not None else today + timedelta(days=1),
    )


# --- SLA compliance: pure arithmetic -----------------------------------------


@dataclass(frozen=True)
class SlaCounts:
    closed_on_time: int = 0
    closed_late: int = 0
    open_overdue: int = 0
    open_not_yet_due: int = 0
    cancelled: int = 0
    no_promise: int = 0

    def __add__(self, other: SlaCounts) -> SlaCounts:
        return SlaCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def denominator(self) -> int:
        """What the promise is judged on: everything closed plus open work overdue."""
        return self.closed_on_time + self.closed_late + self.open_overdue


@dataclass(frozen=True)
class Lateness:
    """Hours past `due_at` of late closures."""

    median_hours: float | None = None
    p90_hours: float | None = None


@dataclass(frozen=True)
class SlaGroup:
    """One row of the SQL aggregate."""

    service_code: str | None
    pickup_point: str | None
    counts: SlaCounts
    lateness: Lateness = Lateness()


@dataclass(frozen=True)
class SlaLine:
    """One row of the report: counts, share and lateness, rounded."""

    service_code: str | None
    pickup_point: str | None
    counts: SlaCounts
    on_time_share: float | None
    lateness: Lateness


@dataclass(frozen=True)
class SlaReport:
    period: Period
    as_of: datetime
    group_by: GroupBy
    lines: list[SlaLine]
    totals: SlaLine


def _round(value: Decimal, decimals: int) -> float:
    return float(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def on_time_share(counts: SlaCounts) -> float | None:
    """closed on time / (closed + open overdue), half up to 4 decimals; None on 0."""
    if counts.denominator == 0:
        return None
    return _round(Decimal(counts.closed_on_time) / Decimal(counts.denominator), SHARE_DECIMALS)


def _hours(value: float | None) -> float | None:
    return None if value is None else _round(Decimal(str(value)), HOURS_DECIMALS)


def sla_line(
    service_code: str | None, pickup_point: str | None, counts: SlaCounts, lateness: Lateness
) -> SlaLine:
    return SlaLine(
        service_code=service_code,
        pickup_point=pickup_point,
        counts=counts,
        on_time_share=on_time_share(counts),
        lateness=Lateness(_hours(lateness.median_hours), _hours(lateness.p90_hours)),
    )


def _sort_key(group: SlaGroup) -> tuple[bool, str, bool, str]:
    # Named groups first, then the one without a value (e.g. no pickup point).
    return (
        group.service_code is None,
        group.service_code or "",
        group.pickup_point is None,
        group.pickup_point or "",
    )


def summarize_sla(
    groups: Iterable[SlaGroup], overall: Lateness = Lateness()
) -> tuple[list[SlaLine], SlaLine]:
    """Lines per group and the totals line.

    The totals are the sums of the groups' counts and their share is computed
    from those sums (never an average of the groups' shares). Percentiles
    cannot be summed, so the overall lateness comes from the query.
    """
    ordered = sorted(groups, key=_sort_key)
    lines = [sla_line(g.service_code, g.pickup_point, g.counts, g.lateness) for g in ordered]
    total = sum((g.counts for g in ordered), SlaCounts())
    return lines, sla_line(None, None, total, overall)


# --- SLA compliance: the query ------------------------------------------------

_SLA_SQL = """
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
    columns = _GROUP_COLUMNS[group_by]
    select_keys = ", ".join(
        c if c in columns else f"NULL::text AS {c}" for c in ("service_code", "pickup_point")
    )
    return _SLA_SQL.format(select_keys=select_keys, grouping_keys=", ".join(columns))


def _counts(row: asyncpg.Record) -> SlaCounts:
    return SlaCounts(**{f.name: int(row[f.name]) for f in fields(SlaCounts)})


def _lateness(row: asyncpg.Record) -> Lateness:
    return Lateness(row["late_median_hours"], row["late_p90_hours"])


async def sla_report(
    conn: asyncpg.Pool | asyncpg.Connection,
    *,
    period: Period,
    as_of: datetime,
    group_by: GroupBy = GroupBy.SERVICE,
) -> SlaReport:
    as_of = local_as_of(as_of)
    rows = await conn.fetch(sla_query(group_by), period.start, period.end, as_of)
    groups = [
        SlaGroup(r["service_code"], r["pickup_point"], _counts(r), _lateness(r))
        for r in rows
        if not r["is_total"]
    ]
    overall = next((_lateness(r) for r in rows if r["is_total"]), Lateness())
    lines, totals = summarize_sla(groups, overall)
    return SlaReport(period=period, as_of=as_of, group_by=group_by, lines=lines, totals=totals)


# --- backlog --------------------------------------------------------------------

_STATE_ORDER = {state.value: n for n, state in enumerate(JobState)}


@dataclass(frozen=True)
class BacklogGroup:
    state: str
    pickup_point: str | None
    open: int
    overdue: int
    oldest_created_at: datetime | None


@dataclass(frozen=True)
class Backlog:
    as_of: datetime
    groups: list[BacklogGroup]
    totals: BacklogGroup  # state "all", pickup_point None


def summarize_backlog(groups: Iterable[BacklogGroup]) -> tuple[list[BacklogGroup], BacklogGroup]:
    """Groups by pickup point (named first), then in the order of the job's life,
    and the totals: sums, and the oldest of the oldest."""
    ordered = sorted(
        groups,
        key=lambda g: (
            g.pickup_point is None,
            g.pickup_point or "",
            _STATE_ORDER.get(g.state, len(_STATE_ORDER)),
            g.state,
        ),
    )
    oldest = [g.oldest_created_at for g in ordered if g.oldest_created_at is not None]
    totals = BacklogGroup(
        state="all",
        pickup_point=None,
        open=sum(g.open for g in ordered),
        overdue=sum(g.overdue for g in ordered),
        oldest_created_at=min(oldest) if oldest else None,
    )
    return ordered, totals


_BACKLOG_SQL = """
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


async def backlog(
    conn: asyncpg.Pool | asyncpg.Connection,
    *,
    as_of: datetime,
    pickup_point: str | None = None,
    service_code: str | None = None,
) -> Backlog:
    as_of = local_as_of(as_of)
    rows = await conn.fetch(_BACKLOG_SQL, as_of, pickup_point, service_code)
    groups, totals = summarize_backlog(
        BacklogGroup(
            state=r["state"],
            pickup_point=r["pickup_point"],
            open=r["open"],
            overdue=r["overdue"],
            oldest_created_at=r["oldest_created_at"],
        )
        for r in rows
    )
    return Backlog(as_of=as_of, groups=groups, totals=totals)
