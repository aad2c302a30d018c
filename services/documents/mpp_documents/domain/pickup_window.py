"""The moments of a pickup window, pure: when a finished document's reminders
fall and when its window ends, and which of several moments due at once is
sent.

Days are calendar days counted from the moment the document became ready
(`ready_at`): the window is a rule told to the citizen ("14 hari"), and a
reminder is a message, which may arrive on a weekend."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, TypeVar

TimerKind = Literal["reminder", "uncollected"]
REMINDER: Final[TimerKind] = "reminder"
UNCOLLECTED: Final[TimerKind] = "uncollected"
# sent: its event is in the outbox; superseded: a later moment of the same
# window was due at once, so only that one was sent.
TimerOutcome = Literal["sent", "superseded"]

Timer = TypeVar("Timer", bound=Mapping[str, Any])


@dataclass(frozen=True)
class PickupSchedule:
    """The moments of one pickup window."""

    ready_at: datetime
    reminders: tuple[datetime, ...]  # reminder n fires at reminders[n - 1]
    ends_at: datetime


def pickup_schedule(
    ready_at: datetime, *, window_days: int, reminder_days: Iterable[int] = ()
) -> PickupSchedule:
    """Reminders at ready_at + N days, the end at ready_at + window_days
    (calendar days, the same time of day); the days as the settings checked
    them (`mpp_documents.settings.reminder_days`)."""
    if ready_at.tzinfo is None or ready_at.utcoffset() is None:
        raise ValueError(f"ready_at must be timezone-aware, got naive {ready_at.isoformat()}")
    return PickupSchedule(
        ready_at=ready_at,
        reminders=tuple(ready_at + timedelta(days=d) for d in sorted(reminder_days)),
        ends_at=ready_at + timedelta(days=window_days),
    )


def latest_due(timers: Sequence[Timer]) -> Timer:
    """Of one window's timers due at once, the one to send: the window's end
    if it is among them, else the last reminder (nobody is asked to collect
    by a date that passed)."""
    ends = [t for t in timers if t["kind"] == UNCOLLECTED]
    return ends[0] if ends else max(timers, key=lambda t: (t["fire_at"], t["seq"]))
