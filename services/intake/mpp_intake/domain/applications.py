"""Application state machine and the citizen-facing progress steps."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Decision(StrEnum):
    VERIFIED = "verified"
    REJECTED = "rejected"


# Officer decisions allowed from each status.
_TRANSITIONS: dict[Status, set[Status]] = {
    Status.SUBMITTED: {Status.VERIFIED, Status.REJECTED},
    Status.VERIFIED: set(),
    Status.REJECTED: set(),
}

# Progress steps the public tracking shows, in order; document events move
# an application along them after verification.
PROGRESS_STEPS = [
    "submitted",
    "verified",
    "rejected",
    "queued",
    "produced",
    "ready_for_pickup",
    "picked_up",
]
PROGRESS_FROM_DOCUMENT_EVENT = {
    "mpp.document.queued.v1": "queued",
    "mpp.document.produced.v1": "produced",
    "mpp.document.ready_for_pickup.v1": "ready_for_pickup",
    "mpp.document.picked_up.v1": "picked_up",
}


def can_decide(current: Status, target: Status) -> bool:
    return target in _TRANSITIONS[current]


def later_progress(current: str, new: str) -> str:
    """Progress never moves backwards, whatever order events arrive in."""
    return new if PROGRESS_STEPS.index(new) > PROGRESS_STEPS.index(current) else current
