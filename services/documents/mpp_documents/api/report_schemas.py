"""Answers of the SLA compliance and backlog reports."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from mpp_documents.domain.reports import GroupBy


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
