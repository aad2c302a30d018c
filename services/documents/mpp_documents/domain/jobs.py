"""Production job state machine."""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    PRODUCED = "produced"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKED_UP = "picked_up"


TRANSITIONS: dict[JobState, set[JobState]] = {
    JobState.QUEUED: {JobState.PRODUCED},
    JobState.PRODUCED: {JobState.READY_FOR_PICKUP},
    JobState.READY_FOR_PICKUP: {JobState.PICKED_UP},
    JobState.PICKED_UP: set(),
}


def can_move(current: JobState, target: JobState) -> bool:
    return target in TRANSITIONS[current]
