"""The officers' work queue of complaints: which complaints a listing asks
for, the order it is read in, and when a complaint is overdue. Pure: the SQL
that applies it is `store/queue.py`.

- A complaint is **overdue** while its verification, follow-up or
  information (a request for information's answer) step runs
  past the step's deadline (the same rule as the gauge
  `mpp.complaints.overdue` and the escalation). The auto-close step is the
  reporter's time to reply, never the office's lateness.
- **overdue_first** (the default order): overdue complaints first, then by
  the running step's deadline (soonest first, complaints without a running
  step last), then the newest first. `newest` and `oldest` order by filing.
- The OPD an `opd_system` token speaks for sees only the complaints assigned
  to it (see `usecases/scope.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mpp_complaints.domain.complaints import CHANNELS
from mpp_complaints.domain.kinds import KINDS
from mpp_complaints.domain.lifecycle import FINAL, Status, Step
from mpp_shared.errors import Invalid

OVERDUE_STEPS = (Step.VERIFICATION.value, Step.FOLLOW_UP.value, Step.INFORMATION.value)
FINAL_STATUSES = tuple(sorted(s.value for s in FINAL))
STATUSES = tuple(s.value for s in Status)


class Sort(StrEnum):
    OVERDUE_FIRST = "overdue_first"
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True)
class QueueFilter:
    """Which complaints a listing shows; None (or empty) leaves a filter out."""

    statuses: tuple[str, ...] = ()
    category: str | None = None
    opd: str | None = None
    channel: str | None = None
    kind: str | None = None
    overdue: bool | None = None


def is_overdue(step: str | None, status: str, step_due_at: datetime | None, now: datetime) -> bool:
    return (
        step in OVERDUE_STEPS
        and status not in FINAL_STATUSES
        and step_due_at is not None
        and step_due_at < now
    )


def parse_statuses(values: Iterable[str]) -> tuple[str, ...]:
    """`status=a&status=b` or `status=a,b` as the statuses asked for, in the
    order first given; Invalid naming the unknown ones."""
    wanted: list[str] = []
    for value in values:
        for part in value.split(","):
            status = part.strip().lower()
            if status and status not in wanted:
                wanted.append(status)
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        choices = ", ".join(STATUSES)
        raise Invalid.field(
            "status",
            "enum",
            f"harus salah satu dari: {choices}",
            f"must be one of: {choices}",
        )
    return tuple(wanted)


def parse_channel(value: str | None) -> str | None:
    """The channel asked for; Invalid unless it is one complaints come through."""
    if value is None or value == "":
        return None
    if value not in CHANNELS:
        choices = ", ".join(CHANNELS)
        raise Invalid.field(
            "channel", "enum", f"harus salah satu dari: {choices}", f"must be one of: {choices}"
        )
    return value


def parse_kind(value: str | None) -> str | None:
    """The kind of report asked for; Invalid unless one of KINDS."""
    if value is None or value == "":
        return None
    if value not in KINDS:
        choices = ", ".join(KINDS)
        raise Invalid.field(
            "kind", "enum", f"harus salah satu dari: {choices}", f"must be one of: {choices}"
        )
    return value
