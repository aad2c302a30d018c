"""The complaint lifecycle (after SP4N-LAPOR!): states, legal transitions and
the deadline of each step, on working days. Pure: no I/O and no clock.

    received ──> verified ──> assigned ──> in_progress ──> responded ──> closed
        │                       ^  │            │              │
        └──> rejected           └──┴── reassign ┘              └──> reopened ──> in_progress | responded

Steps and their deadlines (working days, per category; defaults):

- verification (3): from filing until the complaint is assigned to an OPD
  (verifying or rejecting it is part of the step); missed → escalated;
- follow_up (5): from each (re)assignment or reopening until the response;
  missed → escalated;
- auto_close (10): from the response; without a reply the complaint closes
  by itself (the reporter may reopen within `reopen_window_days`).

A request for information and an aspiration change this per kind: see
domain/kinds.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mpp_shared.workcal import WorkCalendar


class Status(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESPONDED = "responded"
    CLOSED = "closed"
    REOPENED = "reopened"


class Step(StrEnum):
    VERIFICATION = "verification"
    FOLLOW_UP = "follow_up"
    AUTO_CLOSE = "auto_close"
    # A request for information's one step from filing to the answer
    # (domain/kinds.py): its due date comes from the information clock.
    INFORMATION = "information"


class RejectionReason(StrEnum):
    NOT_A_COMPLAINT = "not_a_complaint"
    DUPLICATE = "duplicate"


# Assigned again = reassignment to another OPD.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.VERIFIED, Status.REJECTED}),
    Status.VERIFIED: frozenset({Status.ASSIGNED}),
    Status.ASSIGNED: frozenset({Status.ASSIGNED, Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.ASSIGNED, Status.RESPONDED}),
    Status.RESPONDED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.REOPENED: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.RESPONDED}),
    Status.REJECTED: frozenset(),
    Status.CLOSED: frozenset(),
}
FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)

DEFAULT_VERIFY_DAYS = 3
DEFAULT_FOLLOWUP_DAYS = 5
DEFAULT_CLOSE_DAYS = 10
DEFAULT_REOPEN_WINDOW_DAYS = 10

# Who closed a complaint when no officer did: its reporter (proved by the
# complaint code) or the deadline scheduler (an unanswered response).
REPORTER = "reporter"
SYSTEM = "system"


def can_transition(current: str, target: str) -> bool:
    try:
        return Status(target) in TRANSITIONS[Status(current)]
    except ValueError:
        return False


@dataclass(frozen=True)
class Deadlines:
    """A category's deadlines in working days."""

    verify_days: int = DEFAULT_VERIFY_DAYS
    followup_days: int = DEFAULT_FOLLOWUP_DAYS
    close_days: int = DEFAULT_CLOSE_DAYS

    def __post_init__(self) -> None:
        for name in ("verify_days", "followup_days", "close_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 working day")


def step_entered(target: Status) -> Step | bool | None:
    """The step a transition starts: a Step, None when it ends the running
    step without starting another (final states), or False when the running
    step goes on (verifying keeps the verification step's clock;
    in_progress keeps the follow-up's)."""
    if target is Status.RECEIVED:
        return Step.VERIFICATION
    if target in (Status.VERIFIED, Status.IN_PROGRESS):
        return False
    if target in (Status.ASSIGNED, Status.REOPENED):
        return Step.FOLLOW_UP
    if target is Status.RESPONDED:
        return Step.AUTO_CLOSE
    return None


def step_days(step: Step, deadlines: Deadlines) -> int:
    """A category's working days for `step`; the information step's come
    from the information clock (domain/kinds.py), never from a category."""
    if step is Step.INFORMATION:
        raise ValueError("the information step is due on the information clock")
    return {
        Step.VERIFICATION: deadlines.verify_days,
        Step.FOLLOW_UP: deadlines.followup_days,
        Step.AUTO_CLOSE: deadlines.close_days,
    }[step]


def due_at(calendar: WorkCalendar, step: Step, started: datetime, deadlines: Deadlines) -> datetime:
    """The step's deadline: `step_days` working days after `started`."""
    return calendar.add_working_days(started, step_days(step, deadlines))


def reopen_until(calendar: WorkCalendar, responded_at: datetime, window_days: int) -> datetime:
    return calendar.add_working_days(responded_at, window_days)


def may_reopen(
    calendar: WorkCalendar, responded_at: datetime | None, now: datetime, window_days: int
) -> bool:
    return responded_at is not None and now <= reopen_until(calendar, responded_at, window_days)
