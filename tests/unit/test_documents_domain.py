"""The production job state machine: the forward path, holds and resume, cancellation."""

from __future__ import annotations

import itertools

import pytest

from mpp_documents.domain.jobs import (
    FINAL,
    HOLD_REASON_NAMES,
    HOLDABLE,
    HoldReason,
    JobState,
    can_move,
)

FORWARD = [
    (JobState.QUEUED, JobState.IN_PRODUCTION),
    (JobState.IN_PRODUCTION, JobState.PRODUCED),
    (JobState.PRODUCED, JobState.IN_TRANSIT),
    (JobState.PRODUCED, JobState.READY_FOR_PICKUP),
    (JobState.IN_TRANSIT, JobState.READY_FOR_PICKUP),
    (JobState.READY_FOR_PICKUP, JobState.PICKED_UP),
]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(JobState, JobState)))
def test_every_pair(current: JobState, target: JobState) -> None:
    if current in FINAL:
        expected = False
    elif target is JobState.CANCELLED:
        expected = True
    elif target is JobState.ON_HOLD:
        expected = current in HOLDABLE
    elif current is JobState.ON_HOLD:
        expected = False  # without knowing where it was held from, nothing resumes
    else:
        expected = (current, target) in FORWARD
    assert can_move(current, target) is expected


@pytest.mark.parametrize("held_from", sorted(HOLDABLE))
def test_a_hold_resumes_only_where_it_was(held_from: JobState) -> None:
    for target in JobState:
        if target is JobState.CANCELLED:
            assert can_move(JobState.ON_HOLD, target, held_from)
        else:
            assert can_move(JobState.ON_HOLD, target, held_from) is (target is held_from)


def test_nothing_is_held_once_ready_or_finished() -> None:
    for state in (JobState.READY_FOR_PICKUP, JobState.PICKED_UP, JobState.CANCELLED):
        assert not can_move(state, JobState.ON_HOLD)
    assert not can_move(JobState.PICKED_UP, JobState.CANCELLED)


def test_every_hold_reason_is_named_in_both_languages() -> None:
    assert set(HOLD_REASON_NAMES) == set(HoldReason)
    for id_name, en_name in HOLD_REASON_NAMES.values():
        assert id_name and en_name and id_name != en_name
