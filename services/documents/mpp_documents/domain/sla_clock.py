"""When an SLA clock warns: a share of the time between a job's start and its
due moment (the promise intake made to the citizen), counted in wall time or
in the office time of a working calendar. Pure: no clock, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

from mpp_shared.workcal import WorkCalendar

DEFAULT_WARNING_SHARE = 0.75


def _aware(name: str, at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at.isoformat()}")


def working_time_between(calendar: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Office time of `calendar` within [start, end); zero when end <= start."""
    _aware("start", start)
    _aware("end", end)
    if end <= start:
        return timedelta(0)
    zone = calendar.zone
    a, b = start.astimezone(zone), end.astimezone(zone)
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        span = calendar.office_hours.days[day.weekday()]
        if span is not None and calendar.is_working_day(day):
            lo = max(a, datetime.combine(day, span[0], tzinfo=zone))
            hi = min(b, datetime.combine(day, span[1], tzinfo=zone))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def warn_at(
    started_at: datetime,
    due_at: datetime,
    share: float = DEFAULT_WARNING_SHARE,
    calendar: WorkCalendar | None = None,
) -> datetime:
    """The moment `share` of the clock's time is used.

    Without a calendar: wall time, started + share × (due − started).
    With a calendar: working time, the moment `share` of the office time
    between start and due is used (`WorkCalendar.add_working_hours`), so a
    warning never falls at night or on a weekend or holiday when nobody could
    act on it: started Fri 08:00 and due Mon 15:30 (default hours) warns Mon
    12:45, where wall time would warn on Sunday evening. When no office time
    lies between the two moments it falls back to wall time.

    The result lies in [started_at, due_at]; a clock due at or before its
    start warns at its due moment (both fire together, warning first).
    """
    _aware("started_at", started_at)
    _aware("due_at", due_at)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    if due_at <= started_at:
        return due_at
    if calendar is not None:
        office = working_time_between(calendar, started_at, due_at)
        if office > timedelta(0):
            at = calendar.add_working_hours(started_at, office * share / timedelta(hours=1))
            return min(max(at, started_at), due_at)
    return started_at + (due_at - started_at) * share
