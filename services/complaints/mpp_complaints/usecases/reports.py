"""The Ombudsman's complaint report (see domain/reports.py for what is
counted): per category or OPD, for complaints filed in a period of days in
WIB, as of now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from mpp_complaints.domain.reports import GroupBy, Line, figures
from mpp_complaints.store import reports
from mpp_shared import clock
from mpp_shared.errors import Invalid

ZONE = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class ComplaintReport:
    first: date
    end: date  # the day after the last (exclusive)
    as_of: datetime
    group_by: GroupBy
    lines: list[Line]


async def complaint_report(
    pool: asyncpg.Pool,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    group_by: GroupBy,
) -> list[Line]:
    """One line per kind of report and category (or OPD; null for reports
    not yet assigned), for reports filed in [start, end)."""
    async with pool.acquire() as conn:
        groups = await reports.counts(conn, start=start, end=end, as_of=as_of, group_by=group_by)
    return [
        Line(kind=kind, key=key, figures=figures(counts, median))
        for kind, key, counts, median in groups
    ]


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), ZONE)


async def report_for_days(
    pool: asyncpg.Pool, *, first: date | None, end: date | None, group_by: GroupBy
) -> ComplaintReport:
    """The report for days [first, end) in WIB (default: this month to date);
    Invalid when `end` does not come after `first`."""
    now = clock.now()
    today = now.astimezone(ZONE).date()
    first = first or today.replace(day=1)
    end = end or today + timedelta(days=1)
    if end <= first:
        raise Invalid.field(
            "to",
            "period_order",
            f"harus sesudah tanggal awal ({first.isoformat()})",
            f"must come after the first day ({first.isoformat()})",
        )
    lines = await complaint_report(
        pool, start=_start(first), end=_start(end), as_of=now, group_by=group_by
    )
    return ComplaintReport(first=first, end=end, as_of=now, group_by=group_by, lines=lines)
