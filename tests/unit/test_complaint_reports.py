"""The Ombudsman report's arithmetic: shares, rates and averages, with null
for a zero denominator."""

from __future__ import annotations

from mpp_complaints.domain.reports import Counts, figures


def _counts(**change: int) -> Counts:
    base = {
        "complaints": 10,
        "responded": 6,
        "on_time": 4,
        "open_overdue": 2,
        "reopened": 3,
        "rated": 4,
        "rating_sum": 15,
    }
    return Counts(**{**base, **change})


def test_open_overdue_counts_as_late() -> None:
    f = figures(_counts(), 12.345)
    assert f.on_time_share == 0.5  # 4 / (6 + 2)
    assert f.reopen_rate == 0.5  # 3 / 6
    assert f.average_rating == 3.75  # 15 / 4
    assert f.median_hours_to_respond == 12.35
    assert (f.complaints, f.responded, f.responded_on_time, f.open_overdue, f.reopened) == (
        10,
        6,
        4,
        2,
        3,
    )


def test_shares_are_rounded_to_four_decimals() -> None:
    assert figures(_counts(on_time=1, responded=3, open_overdue=0), None).on_time_share == 0.3333


def test_zero_denominators_give_null() -> None:
    f = figures(_counts(responded=0, on_time=0, open_overdue=0, reopened=0, rated=0), None)
    assert (f.on_time_share, f.reopen_rate, f.average_rating, f.median_hours_to_respond) == (
        None,
        None,
        None,
        None,
    )


def test_only_overdue_work_gives_a_zero_share() -> None:
    f = figures(_counts(responded=0, on_time=0, open_overdue=3, reopened=0), None)
    assert f.on_time_share == 0.0 and f.reopen_rate is None
