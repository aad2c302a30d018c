"""When an SLA clock warns: a share of wall time, or of working time on a calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mpp_documents.domain.sla_clock import DEFAULT_WARNING_SHARE, warn_at, working_time_between
from mpp_shared.workcal import WorkCalendar

WIB = ZoneInfo("Asia/Jakarta")


def wib(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


# --- wall time -----------------------------------------------------------------


def test_default_share_is_three_quarters_of_wall_time() -> None:
    start = datetime(2026, 7, 13, 8, tzinfo=UTC)
    assert DEFAULT_WARNING_SHARE == 0.75
    assert warn_at(start, start + timedelta(hours=8)) == start + timedelta(hours=6)
    assert warn_at(start, start + timedelta(days=4)) == start + timedelta(days=3)


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.0, timedelta(0)),
        (0.5, timedelta(hours=5)),
        (0.9, timedelta(hours=9)),
        (1.0, timedelta(hours=10)),
    ],
)
def test_share_bounds_are_start_and_due(share: float, expected: timedelta) -> None:
    start = datetime(2026, 7, 13, 8, tzinfo=UTC)
    assert warn_at(start, start + timedelta(hours=10), share) == start + expected


def test_sub_second_results_keep_microseconds() -> None:
    start = datetime(2026, 7, 13, 8, tzinfo=UTC)
    assert warn_at(start, start + timedelta(seconds=1), 1 / 3) == start + timedelta(
        microseconds=333333
    )


def test_mixed_zones_are_compared_as_instants() -> None:
    start = wib(2026, 7, 13, 8)  # 01:00 UTC
    due = datetime(2026, 7, 13, 9, tzinfo=UTC)  # 8 hours later
    assert warn_at(start, due) == start + timedelta(hours=6)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=-3)])
def test_clock_due_at_or_before_its_start_warns_at_due(offset: timedelta) -> None:
    start = datetime(2026, 7, 13, 8, tzinfo=UTC)
    assert warn_at(start, start + offset) == start + offset
    assert warn_at(start, start + offset, calendar=WorkCalendar()) == start + offset


@pytest.mark.parametrize("share", [-0.01, 1.01, float("nan")])
def test_share_outside_zero_to_one_is_refused(share: float) -> None:
    start = datetime(2026, 7, 13, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="share"):
        warn_at(start, start + timedelta(hours=1), share)


def test_naive_datetimes_are_refused() -> None:
    aware = datetime(2026, 7, 13, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        warn_at(datetime(2026, 7, 13, 8), aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        warn_at(aware, datetime(2026, 7, 14, 8))


# --- working time ----------------------------------------------------------------


def test_working_time_between_counts_office_hours_only(cal: WorkCalendar) -> None:
    # Mon 08:00 – Tue 15:30: two full days of 7.5 h.
    assert working_time_between(cal, wib(2026, 7, 13, 8), wib(2026, 7, 14, 15, 30)) == timedelta(
        hours=15
    )
    # Fri 08:00 – Mon 15:30: Friday closes at 11:30, the weekend counts nothing.
    assert working_time_between(cal, wib(2026, 7, 17, 8), wib(2026, 7, 20, 15, 30)) == timedelta(
        hours=11
    )
    # Partial days at both ends, outside hours clipped.
    assert working_time_between(cal, wib(2026, 7, 13, 6), wib(2026, 7, 13, 9)) == timedelta(hours=1)
    assert working_time_between(cal, wib(2026, 7, 13, 14), wib(2026, 7, 14, 20)) == timedelta(
        hours=9
    )
    assert working_time_between(cal, wib(2026, 7, 14), wib(2026, 7, 13)) == timedelta(0)


def test_working_share_skips_the_night(cal: WorkCalendar) -> None:
    # 15 office hours; 75 % = 11.25 h → Tue 08:00 + 3.75 h. Wall time would
    # say Tue 07:37:30, before the office opens.
    start, due = wib(2026, 7, 13, 8), wib(2026, 7, 14, 15, 30)
    assert warn_at(start, due, calendar=cal) == wib(2026, 7, 14, 11, 45)
    assert warn_at(start, due) == wib(2026, 7, 14, 7, 37) + timedelta(seconds=30)


def test_working_share_skips_the_weekend(cal: WorkCalendar) -> None:
    # Fri 3.5 h + Mon 7.5 h = 11 h; 8.25 h → Mon 08:00 + 4.75 h.
    start, due = wib(2026, 7, 17, 8), wib(2026, 7, 20, 15, 30)
    assert warn_at(start, due, calendar=cal) == wib(2026, 7, 20, 12, 45)
    assert warn_at(start, due).weekday() == 6  # wall time: Sunday evening


def test_working_share_skips_public_holidays(cal: WorkCalendar) -> None:
    # Independence Day, Mon 2026-08-17, is closed: Fri 3.5 h + Tue 7.5 h.
    assert not cal.is_working_day(date(2026, 8, 17))
    start, due = wib(2026, 8, 14, 8), wib(2026, 8, 18, 15, 30)
    assert warn_at(start, due, calendar=cal) == wib(2026, 8, 18, 12, 45)


def test_working_share_skips_configured_days_off() -> None:
    cal = WorkCalendar(extra_days_off=[date(2026, 7, 14)])
    # Mon 7.5 h + Wed 7.5 h, Tuesday off.
    assert warn_at(wib(2026, 7, 13, 8), wib(2026, 7, 15, 15, 30), calendar=cal) == wib(
        2026, 7, 15, 11, 45
    )


def test_working_share_from_a_start_outside_office_hours(cal: WorkCalendar) -> None:
    # Received Mon 06:00, due Mon 15:30: 7.5 office hours, 5.625 h after 08:00.
    assert warn_at(wib(2026, 7, 13, 6), wib(2026, 7, 13, 15, 30), calendar=cal) == wib(
        2026, 7, 13, 13, 37
    ) + timedelta(seconds=30)
    # share 0: nobody can act before the office opens.
    assert warn_at(wib(2026, 7, 13, 6), wib(2026, 7, 13, 15, 30), 0.0, cal) == wib(2026, 7, 13, 8)


def test_working_share_one_is_the_last_office_moment(cal: WorkCalendar) -> None:
    assert warn_at(wib(2026, 7, 13, 8), wib(2026, 7, 14, 15, 30), 1.0, cal) == wib(
        2026, 7, 14, 15, 30
    )
    # Due late in the evening: the warning comes at the last closing before it.
    assert warn_at(wib(2026, 7, 13, 8), wib(2026, 7, 14, 23), 1.0, cal) == wib(2026, 7, 14, 15, 30)


def test_no_office_time_in_between_falls_back_to_wall_time(cal: WorkCalendar) -> None:
    start, due = wib(2026, 7, 18, 10), wib(2026, 7, 19, 10)  # Saturday to Sunday
    assert working_time_between(cal, start, due) == timedelta(0)
    assert warn_at(start, due, calendar=cal) == wib(2026, 7, 19, 4)


def test_working_share_stays_within_start_and_due(cal: WorkCalendar) -> None:
    start = wib(2026, 7, 13, 8)
    for hours in range(1, 24 * 15, 7):
        due = start + timedelta(hours=hours)
        for share in (0.0, 0.3, 0.75, 1.0):
            at = warn_at(start, due, share, cal)
            assert start <= at <= due
