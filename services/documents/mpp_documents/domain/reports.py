"""The rules and arithmetic of the SLA compliance and backlog reports over the
production jobs, pure: the SQL aggregates (`mpp_documents.store.reports`)
count, the functions here compute shares, round and total; no job is loaded
into Python one by one.

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

from mpp_documents.domain.jobs import JobState

ZONE = ZoneInfo("Asia/Jakarta")
SHARE_DECIMALS = 4
HOURS_DECIMALS = 2


class GroupBy(StrEnum):
    SERVICE = "service"
    POINT = "point"
    SERVICE_POINT = "service_point"


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
