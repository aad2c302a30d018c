"""The Ombudsman's complaint report (supervisors, admins). What is counted
is in `mpp_complaints.domain.reports`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from mpp_complaints.api.deps import Supervisor
from mpp_complaints.domain.reports import GroupBy
from mpp_complaints.usecases import reports
from mpp_shared.errors import Invalid
from mpp_shared.web import PoolDep

router = APIRouter(prefix="/v1/reports", tags=["reports"])
CHOICES = [g.value for g in GroupBy]


class ComplaintFigures(BaseModel):
    kind: str = Field(description="aspirasi, pengaduan or permintaan_informasi")
    key: str | None = Field(description="The category or OPD (null: not yet assigned)")
    complaints: int
    responded: int
    responded_on_time: int
    open_overdue: int = Field(description="Unanswered past the follow-up deadline (late)")
    reopened: int
    on_time_share: float | None = Field(
        description="responded_on_time / (responded + open_overdue); null when 0"
    )
    median_hours_to_respond: float | None = Field(description="From filing to first response")
    reopen_rate: float | None = Field(description="reopened / responded; null when 0")
    average_rating: float | None = Field(description="Of complaints closed with a rating")


class ComplaintReportOut(BaseModel):
    from_: date = Field(serialization_alias="from")
    to: date
    as_of: datetime
    group_by: GroupBy
    rows: list[ComplaintFigures]


def _group_by(value: str) -> GroupBy:
    """The query's group_by; Invalid (422 on the field) unless one of CHOICES."""
    if value not in CHOICES:
        choices = ", ".join(CHOICES)
        raise Invalid.field(
            "group_by", "enum", f"harus salah satu dari: {choices}", f"must be one of: {choices}"
        )
    return GroupBy(value)


@router.get(
    "/complaints",
    response_model=ComplaintReportOut,
    summary="Reports per kind and category or OPD: on-time response share, median time to "
    "respond, reopen rate, average rating",
    description="For reports filed in [from, to), days in WIB (default: this month to "
    "date), one row per kind of report (aspirasi, pengaduan, permintaan_informasi) and "
    "category or OPD. A report not answered by its follow-up deadline (a request for "
    "information: its answer deadline, extended or not) is counted late.",
)
async def complaint_report(
    pool: PoolDep,
    _supervisor: Supervisor,
    from_: Annotated[date | None, Query(alias="from", description="First day (WIB)")] = None,
    to: Annotated[date | None, Query(description="Day after the last (WIB, exclusive)")] = None,
    group_by: Annotated[
        str, Query(json_schema_extra={"enum": CHOICES}, description="Rows per category or OPD")
    ] = GroupBy.CATEGORY.value,
) -> Any:
    report = await reports.report_for_days(pool, first=from_, end=to, group_by=_group_by(group_by))
    return ComplaintReportOut(
        from_=report.first,
        to=report.end,
        as_of=report.as_of,
        group_by=report.group_by,
        rows=[
            ComplaintFigures(kind=line.kind, key=line.key, **vars(line.figures))
            for line in report.lines
        ],
    )
