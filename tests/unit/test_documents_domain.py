"""Production job state machine of the documents service."""

from __future__ import annotations

import itertools

import pytest

from mpp_documents.domain.jobs import TRANSITIONS, JobState, can_move

FORWARD_PATH = [JobState.QUEUED, JobState.PRODUCED, JobState.READY_FOR_PICKUP, JobState.PICKED_UP]
ALLOWED = set(itertools.pairwise(FORWARD_PATH))


def test_states() -> None:
    assert [s.value for s in JobState] == ["queued", "produced", "ready_for_pickup", "picked_up"]
    assert set(TRANSITIONS) == set(JobState)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_forward_steps_are_allowed(current: JobState, target: JobState) -> None:
    assert can_move(current, target) is True


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair in itertools.product(JobState, JobState) if pair not in ALLOWED],
)
def test_every_other_move_is_refused(current: JobState, target: JobState) -> None:
    assert can_move(current, target) is False


def test_picked_up_is_final() -> None:
    assert not any(can_move(JobState.PICKED_UP, s) for s in JobState)


def test_the_forward_path_is_the_only_walk_from_queued() -> None:
    state, walked = JobState.QUEUED, [JobState.QUEUED]
    while nexts := [s for s in JobState if can_move(state, s)]:
        assert len(nexts) == 1
        state = nexts[0]
        walked.append(state)
    assert walked == FORWARD_PATH


def test_plain_strings_work_like_states() -> None:
    assert can_move(JobState("queued"), JobState("produced"))
    with pytest.raises(ValueError):
        JobState("lost")
