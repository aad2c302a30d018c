"""The complaint lifecycle: every (state, target) pair, and the deadlines of
each step on working days."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from mpp_complaints.domain.lifecycle import (
    FINAL,
    TRANSITIONS,
    Deadlines,
    Status,
    Step,
    can_transition,
    due_at,
    may_reopen,
    reopen_until,
    step_entered,
)
from mpp_shared.workcal import WorkCalendar

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar()

LEGAL = {
    ("received", "verified"),
    ("received", "rejected"),
    ("verified", "assigned"),
    ("assigned", "assigned"),  # reassignment
    ("assigned", "in_progress"),
    ("in_progress", "assigned"),  # reassignment
    ("in_progress", "responded"),
    ("responded", "closed"),
    ("responded", "reopened"),
    ("reopened", "assigned"),
    ("reopened", "in_progress"),
    ("reopened", "responded"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status, Status)))
def test_every_transition_pair(current: Status, target: Status) -> None:
    assert can_transition(current.value, target.value) is ((current, target) in LEGAL)


def test_unknown_states_are_refused() -> None:
    assert not can_transition("nonsense", "verified")
    assert not can_transition("received", "nonsense")


def test_final_states() -> None:
    assert FINAL == {Status.REJECTED, Status.CLOSED}
    assert set(TRANSITIONS) == set(Status)


def test_steps_entered() -> None:
    assert step_entered(Status.RECEIVED) is Step.VERIFICATION
    assert step_entered(Status.VERIFIED) is False  # verification goes on until assigned
    assert step_entered(Status.ASSIGNED) is Step.FOLLOW_UP
    assert step_entered(Status.IN_PROGRESS) is False
    assert step_entered(Status.REOPENED) is Step.FOLLOW_UP
    assert step_entered(Status.RESPONDED) is Step.AUTO_CLOSE
    assert step_entered(Status.CLOSED) is None
    assert step_entered(Status.REJECTED) is None


def test_default_deadlines_after_sp4n_lapor() -> None:
    d = Deadlines()
    assert (d.verify_days, d.followup_days, d.close_days) == (3, 5, 10)
    with pytest.raises(ValueError, match="verify_days"):
        Deadlines(verify_days=0)


def test_verification_deadline_skips_the_weekend() -> None:
    # Filed Thu 2026-07-09 10:00: day 0 Thu; +3 working days = Fri, Mon, Tue → Tue 15:30.
    filed = datetime(2026, 7, 9, 10, tzinfo=WIB)
    assert due_at(CAL, Step.VERIFICATION, filed, Deadlines()) == datetime(
        2026, 7, 14, 15, 30, tzinfo=WIB
    )


def test_follow_up_deadline_skips_a_public_holiday() -> None:
    # Assigned Mon 2026-08-10; Mon 17 Aug is Independence Day.
    assigned = datetime(2026, 8, 10, 9, tzinfo=WIB)
    assert due_at(CAL, Step.FOLLOW_UP, assigned, Deadlines()) == datetime(
        2026, 8, 18, 15, 30, tzinfo=WIB
    )


def test_auto_close_and_reopen_window() -> None:
    responded = datetime(2026, 7, 13, 9, tzinfo=WIB)  # Monday
    closes = due_at(CAL, Step.AUTO_CLOSE, responded, Deadlines())
    assert closes == datetime(2026, 7, 27, 15, 30, tzinfo=WIB)  # two working weeks on
    assert reopen_until(CAL, responded, 10) == closes
    assert may_reopen(CAL, responded, datetime(2026, 7, 27, 15, tzinfo=WIB), 10)
    assert not may_reopen(CAL, responded, datetime(2026, 7, 28, 8, tzinfo=WIB), 10)
    assert not may_reopen(CAL, None, responded, 10)


def test_a_category_sets_its_own_deadlines() -> None:
    filed = datetime(2026, 7, 13, 9, tzinfo=WIB)
    fast = Deadlines(verify_days=1, followup_days=2, close_days=3)
    assert due_at(CAL, Step.VERIFICATION, filed, fast) == datetime(2026, 7, 14, 15, 30, tzinfo=WIB)
    assert due_at(CAL, Step.FOLLOW_UP, filed, fast) == datetime(2026, 7, 15, 15, 30, tzinfo=WIB)
    assert due_at(CAL, Step.AUTO_CLOSE, filed, fast) == datetime(2026, 7, 16, 15, 30, tzinfo=WIB)
