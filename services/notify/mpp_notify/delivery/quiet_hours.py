"""Quiet hours: a message that can wait is not sent at night.

Urgent messages answer something the citizen has just done (the receipt at
the counter, a complaint just filed) or reach an officer; everything else
(reminders, "ready for pickup", apologies, answers) waits for the morning in
the pickup point's time zone.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

URGENT_TYPES = frozenset(
    {
        "mpp.application.submitted.v1",
        "mpp.application.incomplete.v1",
        "mpp.application.completed.v1",
        "mpp.application.resubmitted.v1",
        "mpp.complaint.filed.v1",
        "mpp.complaint.escalated.v1",
        "mpp.population.follow_up_overdue.v1",
    }
)


def is_urgent(event_type: str) -> bool:
    return event_type in URGENT_TYPES


def parse_clock(value: str) -> time:
    """'21:00' → 21:00; refuses anything else with a clear reason."""
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"quiet hours must be written HH:MM, got {value!r}") from exc


def held_until(now: datetime, zone: ZoneInfo, start: time, end: time) -> datetime | None:
    """When quiet hours that contain `now` end, or None outside them.

    `start` after `end` means the quiet spans midnight (21:00–06:00); equal
    means no quiet hours at all.
    """
    if start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        ends_on = local.date()
    else:
        inside = clock >= start or clock < end
        ends_on = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(ends_on, end, tzinfo=zone)
