"""SLA compliance and backlog reports for supervisors and the production and
pickup desks. The rules are in `mpp_documents.reports`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mpp_documents import reports
from mpp_documents.reports import GroupBy
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.web import ApiError, PoolDep, register_messages

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
BacklogReader = Annotated[
    Principal, Depends(require_roles(Role.SUPERVISOR, Role.PRODUCTION, Role.PICKUP))
]

# Pydantic's error types for dates in query parameters, in an officer's words.
register_messages(
    {
        "date_parsing": ("harus berupa tanggal TTTT-BB-HH", "must be a date YYYY-MM-DD"),
        "date_type": ("harus berupa tanggal TTTT-BB-HH", "must be a date YYYY-MM-DD"),
        "date_from_datetime_parsing": (
            "harus berupa tanggal TTTT-BB-HH",
            "must be a date YYYY-MM-DD",
        ),
        "date_from_datetime_inexact": (
            "harus berupa tanggal tanpa jam (TTTT-BB-HH)",
            "must be a date without a time (YYYY-MM-DD)",
        ),
        "datetime_parsing": (
            "harus berupa waktu ISO 8601, mis. 2026-07-01T09:00:00+07:00",
            "must be an ISO 8601 moment, e.g. 2026-07-01T09:00:00+07:00",
        ),
        "datetime_type": (
            "harus berupa waktu ISO 8601, mis. 2026-07-01T09:00:00+07:00",
            "must be an ISO 8601 moment, e.g. 2026-07-01T09:00:00+07:00",
        ),
        "datetime_from_date_parsing": (
            "harus berupa waktu ISO 8601, mis. 2026-07-01T09:00:00+07:00",
            "must be an ISO 8601 moment, e.g. 2026-07-01T09:00:00+07:00",
        ),
    }
)


# --- answers ------------------------------------------------------------------


class ReportPeriod(BaseModel):
    from_: date = Field(serialization_alias="from", description="First day, WIB (inclusive)")
    to: date = Field(description="Day after the last, WIB (exclusive)")
    timezone: str = Field(default="Asia/Jakarta")
    start: datetime = Field(description="The instant the period starts")
    end: datetime = Field(description="The instant the period ends (exclusive)")


class SlaFigures(BaseModel):
    closed_on_time: int = Field(description="Ready for pickup at or before due_at")
    closed_late: int = Field(description="Ready for pickup after due_at")
    open_overdue: int = Field(description="Not ready, not cancelled, due_at before as_of")
    open_not_yet_due: int = Field(
        description="Not ready, not cancelled, not yet due (not in the share)"
    )
    cancelled: int = Field(description="Cancelled jobs (not in the share)")
    no_promise: int = Field(
        description="Jobs without due_at created in the period (not in the share)"
    )
    on_time_share: float | None = Field(
        description="closed_on_time / (closed_on_time + closed_late + open_overdue), "
        "4 decimals; null when that denominator is 0"
    )
    lateness_median_hours: float | None = Field(
        description="Median hours past due_at of the late closures"
    )
    lateness_p90_hours: float | None = Field(
        description="90th percentile of hours past due_at of the late closures"
    )


class SlaRow(SlaFigures):
    service_code: str | None = Field(description="Null unless grouped by service")
    pickup_point: str | None = Field(
        description="Null unless grouped by point (or the jobs have no pickup point)"
    )


class SlaReportOut(BaseModel):
    period: ReportPeriod
    as_of: datetime = Field(description="Open work due before this moment is overdue")
    group_by: GroupBy
    rows: list[SlaRow]
    totals: SlaFigures


class BacklogRow(BaseModel):
    state: str
    pickup_point: str | None
    open: int = Field(description="Open jobs in this state at this point")
    overdue: int = Field(description="Of those, not yet ready and past due_at")
    oldest_created_at: datetime | None


class BacklogTotals(BaseModel):
    open: int
    overdue: int
    oldest_created_at: datetime | None


class BacklogOut(BaseModel):
    as_of: datetime
    rows: list[BacklogRow]
    totals: BacklogTotals


def _figures(line: reports.SlaLine) -> dict[str, Any]:
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

_GROUP_BY_CHOICES = [g.value for g in GroupBy]


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
            json_schema_extra={"enum": _GROUP_BY_CHOICES},
        ),
    ] = GroupBy.SERVICE.value,
    as_of: Annotated[
        datetime | None,
        Query(description="Judge overdue against this moment instead of now (naive = WIB)"),
    ] = None,
) -> Any:
    if group_by not in _GROUP_BY_CHOICES:
        choices = ", ".join(_GROUP_BY_CHOICES)
        raise ApiError.invalid(
            "group_by", "enum", f"harus salah satu dari: {choices}", f"must be one of: {choices}"
        )
    moment = reports.local_as_of(as_of) if as_of is not None else datetime.now(UTC)
    period = reports.resolve_period(from_, to, moment)
    if period.is_empty:
        raise ApiError.invalid(
            "to",
            "period_order",
            f"harus sesudah tanggal awal ({period.first_day.isoformat()})",
            f"must come after the first day ({period.first_day.isoformat()})",
        )
    report = await reports.sla_report(pool, period=period, as_of=moment, group_by=GroupBy(group_by))
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
    _reader: BacklogReader,
    pickup_point: Annotated[str | None, Query(max_length=100)] = None,
    service_code: Annotated[str | None, Query(max_length=100)] = None,
    as_of: Annotated[
        datetime | None,
        Query(description="Judge overdue against this moment instead of now (naive = WIB)"),
    ] = None,
) -> Any:
    moment = reports.local_as_of(as_of) if as_of is not None else datetime.now(UTC)
    found = await reports.backlog(
        pool, as_of=moment, pickup_point=pickup_point, service_code=service_code
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
