"""SLA compliance and backlog reports over the production jobs: the period
and the moment they are judged at, the counts from the database
(`mpp_documents.store.reports`) and the arithmetic on them
(`mpp_documents.domain.reports`). Reads only, one statement each: no
transaction is needed."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from mpp_documents.domain.reports import (
    Backlog,
    GroupBy,
    Period,
    SlaReport,
    local_as_of,
    resolve_period,
    summarize_backlog,
    summarize_sla,
)
from mpp_documents.store import report_counts
from mpp_documents.store import reports as reports_store
from mpp_shared import clock
from mpp_shared.errors import Invalid
from mpp_shared.kept_counts import fold_task
from mpp_shared.runtime import BackgroundTask


def judged_at(as_of: datetime | None) -> datetime:
    """The moment open work is judged overdue against: the one asked for
    (naive = WIB), else now."""
    return local_as_of(as_of) if as_of is not None else clock.now()


async def sla_report(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    period: Period,
    as_of: datetime,
    group_by: GroupBy = GroupBy.SERVICE,
) -> SlaReport:
    as_of = local_as_of(as_of)
    groups, overall = await reports_store.sla_groups(
        db, period=period, as_of=as_of, group_by=group_by
    )
    lines, totals = summarize_sla(groups, overall)
    return SlaReport(period=period, as_of=as_of, group_by=group_by, lines=lines, totals=totals)


async def sla_compliance(
    pool: asyncpg.Pool,
    *,
    first_day: date | None,
    end_day: date | None,
    as_of: datetime | None,
    group_by: GroupBy,
) -> SlaReport:
    """The report a supervisor asks for: the period defaults to the month to
    date of the moment judged at; an empty period is refused on `to`."""
    moment = judged_at(as_of)
    period = resolve_period(first_day, end_day, moment)
    if period.is_empty:
        raise Invalid.field(
            "to",
            "period_order",
            f"harus sesudah tanggal awal ({period.first_day.isoformat()})",
            f"must come after the first day ({period.first_day.isoformat()})",
        )
    return await sla_report(pool, period=period, as_of=moment, group_by=group_by)


async def backlog(
    db: asyncpg.Pool | asyncpg.Connection,
    *,
    as_of: datetime | None = None,
    pickup_point: str | None = None,
    service_code: str | None = None,
) -> Backlog:
    """Open jobs per state and pickup point, judged at `as_of` (default now)."""
    moment = judged_at(as_of)
    groups = await reports_store.backlog_groups(
        db, as_of=moment, pickup_point=pickup_point, service_code=service_code
    )
    ordered, totals = summarize_backlog(groups)
    return Backlog(as_of=moment, groups=ordered, totals=totals)


def report_counts_task(interval: float) -> BackgroundTask:
    """The background task that folds the report counts' deltas
    (`mpp_documents.store.report_counts`) every `interval` seconds."""
    return fold_task("report_counts_fold", report_counts.compact, interval)
