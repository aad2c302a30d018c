"""SLA compliance and backlog reports for supervisors and the production and
pickup desks. The rules are in `mpp_documents.domain.reports`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mpp_documents.api.deps import Staff, Supervisor
from mpp_documents.api.report_schemas import (
    BacklogOut,
    BacklogRow,
    BacklogTotals,
    ReportPeriod,
    SlaFigures,
    SlaReportOut,
    SlaRow,
)
from mpp_documents.domain.reports import GroupBy, SlaLine
from mpp_documents.usecases import reports
from mpp_shared.errors import Invalid
from mpp_shared.web import PoolDep

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _figures(line: SlaLine) -> dict[str, Any]:
    return {
        "closed_on_time": line.counts.closed_on_time,
        "closed_late": line.counts.closed_late,
        "open_overdue": line.counts.open_overdue,
        "open_not_yet_due": line.counts.open_not_yet_due,
        "cancelled": line.counts.cancelled,
        "no_promise": line.counts.no_promise,
        "on_time_share": line.on_time_share,
        "lateness_median_hours": line.lateness.median_hours,
        "lateness_p90_hours": line.lateness.p90_hours,
    }


# --- routes -------------------------------------------------------------------

GROUP_BY_CHOICES = [g.value for g in GroupBy]


@router.get(
    "/sla",
    response_model=SlaReportOut,
    summary="SLA compliance: on-time share per service, pickup point and period",
    description=(
        "For production jobs whose promise (due_at) falls in [from, to), days in WIB "
        "(default: the current month to date). A job is closed when it became ready for "
        "pickup; on time when that was at or before due_at. "
        "on_time_share = closed_on_time / (closed_on_time + closed_late + open_overdue), "
        "so open work past its due date is never hidden; null when nothing is to be judged. "
        "Cancelled jobs and jobs without a due date are counted apart, outside the share. "
        "`as_of` (default now) is the moment open work is judged overdue against; set it to "
        "reproduce a report. Rows are ordered by their keys; `totals` sums the rows and "
        "computes its share from the sums."
    ),
)
async def sla_compliance(
    pool: PoolDep,
    _supervisor: Supervisor,
    from_: Annotated[
        date | None, Query(alias="from", description="First day (WIB), YYYY-MM-DD")
    ] = None,
    to: Annotated[
        date | None, Query(description="Day after the last (WIB, exclusive), YYYY-MM-DD")
    ] = None,
    group_by: Annotated[
        str,
        Query(
            description="Rows per service, per pickup point, or per both",
            json_schema_extra={"enum": GROUP_BY_CHOICES},
        ),
    ] = GroupBy.SERVICE.value,
    as_of: Annotated[
        datetime | None,
        Query(description="Judge overdue against this moment instead of now (naive = WIB)"),
    ] = None,
) -> Any:
    if group_by not in GROUP_BY_CHOICES:
        choices = ", ".join(GROUP_BY_CHOICES)
        raise Invalid.field(
            "group_by", "enum", f"harus salah satu dari: {choices}", f"must be one of: {choices}"
        )
    report = await reports.sla_compliance(
        pool, first_day=from_, end_day=to, as_of=as_of, group_by=GroupBy(group_by)
    )
    period = report.period
    return SlaReportOut(
        period=ReportPeriod(
            from_=period.first_day, to=period.end_day, start=period.start, end=period.end
        ),
        as_of=report.as_of,
        group_by=report.group_by,
        rows=[
            SlaRow(service_code=line.service_code, pickup_point=line.pickup_point, **_figures(line))
            for line in report.lines
        ],
        totals=SlaFigures(**_figures(report.totals)),
    )


@router.get(
    "/backlog",
    response_model=BacklogOut,
    summary="Open jobs per state and pickup point, the oldest and the overdue",
    description=(
        "Jobs neither picked up nor cancelled, counted per state and pickup point, with the "
        "oldest created_at of each group and how many are overdue (not yet ready for pickup "
        "and past due_at; a document waiting at the pickup point is not overdue). "
        "`as_of` (default now) is the moment overdue is judged against."
    ),
)
async def backlog(
    pool: PoolDep,
    _reader: Staff,
    pickup_point: Annotated[str | None, Query(max_length=100)] = None,
    service_code: Annotated[str | None, Query(max_length=100)] = None,
    as_of: Annotated[
        datetime | None,
        Query(description="Judge overdue against this moment instead of now (naive = WIB)"),
    ] = None,
) -> Any:
    found = await reports.backlog(
        pool, as_of=as_of, pickup_point=pickup_point, service_code=service_code
    )
    return BacklogOut(
        as_of=found.as_of,
        rows=[
            BacklogRow(
                state=g.state,
                pickup_point=g.pickup_point,
                open=g.open,
                overdue=g.overdue,
                oldest_created_at=g.oldest_created_at,
            )
            for g in found.groups
        ],
        totals=BacklogTotals(
            open=found.totals.open,
            overdue=found.totals.overdue,
            oldest_created_at=found.totals.oldest_created_at,
        ),
    )
