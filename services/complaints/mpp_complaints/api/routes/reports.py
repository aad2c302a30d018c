"""The Ombudsman's complaint report (supervisors, admins). The rules are in
`mpp_complaints.reports`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mpp_complaints import reports
from mpp_complaints.reports import GroupBy
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.web import ApiError, PoolDep

router = APIRouter(prefix="/v1/reports", tags=["reports"])
ZONE = ZoneInfo("Asia/Jakarta")
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]
_CHOICES = [g.value for g in GroupBy]


class ComplaintFigures(BaseModel):
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


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), ZONE)


@router.get(
    "/complaints",
    response_model=ComplaintReportOut,
    summary="Complaints per category or OPD: on-time response share, median time to "
    "respond, reopen rate, average rating",
    description="For complaints filed in [from, to), days in WIB (default: this month to "
    "date). A complaint not answered by its follow-up deadline is counted late.",
)
async def complaint_report(
    pool: PoolDep,
    _supervisor: Supervisor,
    from_: Annotated[date | None, Query(alias="from", description="First day (WIB)")] = None,
    to: Annotated[date | None, Query(description="Day after the last (WIB, exclusive)")] = None,
    group_by: Annotated[
        str, Query(json_schema_extra={"enum": _CHOICES}, description="Rows per category or OPD")
    ] = GroupBy.CATEGORY.value,
) -> Any:
    if group_by not in _CHOICES:
        choices = ", ".join(_CHOICES)
        raise ApiError.invalid(
            "group_by", "enum", f"harus salah satu dari: {choices}", f"must be one of: {choices}"
        )
    now = datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    first = from_ or today.replace(day=1)
    end = to or today + timedelta(days=1)
    if end <= first:
        raise ApiError.invalid(
            "to",
            "period_order",
            f"harus sesudah tanggal awal ({first.isoformat()})",
            f"must come after the first day ({first.isoformat()})",
        )
    lines = await reports.complaint_report(
        pool, start=_start(first), end=_start(end), as_of=now, group_by=GroupBy(group_by)
    )
    return ComplaintReportOut(
        from_=first,
        to=end,
        as_of=now,
        group_by=GroupBy(group_by),
        rows=[ComplaintFigures(key=line.key, **vars(line.figures)) for line in lines],
    )
