"""Notify's delivery policy: backoff with jitter, quiet hours. (The providers'
rates, kept in PostgreSQL: tests/integration/test_shared_rate_limits.py.)"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest

from mpp_notify.delivery.policy import backoff
from mpp_notify.delivery.quiet_hours import held_until, is_urgent, parse_clock

WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")
NIGHT = (clock(21, 0), clock(6, 0))


def test_backoff_doubles_within_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)]:
        waits = [backoff(attempt, 2.0, 600.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 4  # jittered, not fixed
    assert all(300 <= backoff(30, 2.0, 600.0, rng) <= 600 for _ in range(50))


@pytest.mark.parametrize(
    ("local", "release"),
    [
        (datetime(2026, 11, 23, 22, 30, tzinfo=WIB), datetime(2026, 11, 24, 6, 0, tzinfo=WIB)),
        (datetime(2026, 11, 24, 2, 15, tzinfo=WIB), datetime(2026, 11, 24, 6, 0, tzinfo=WIB)),
        (datetime(2026, 11, 23, 21, 0, tzinfo=WIB), datetime(2026, 11, 24, 6, 0, tzinfo=WIB)),
        (datetime(2026, 11, 24, 6, 0, tzinfo=WIB), None),
        (datetime(2026, 11, 23, 14, 0, tzinfo=WIB), None),
        (datetime(2026, 11, 23, 20, 59, tzinfo=WIB), None),
    ],
)
def test_quiet_hours_over_midnight(local: datetime, release: datetime | None) -> None:
    assert held_until(local.astimezone(UTC), WIB, *NIGHT) == release


def test_quiet_hours_follow_the_points_time_zone() -> None:
    # 20:30 WIB is 22:30 in Jayapura (WIT): quiet there, not in Kediri.
    at = datetime(2026, 11, 23, 20, 30, tzinfo=WIB)
    assert held_until(at, WIB, *NIGHT) is None
    assert held_until(at, WIT, *NIGHT) == datetime(2026, 11, 24, 6, 0, tzinfo=WIT)


def test_quiet_hours_within_one_day_and_switched_off() -> None:
    at = datetime(2026, 11, 23, 12, 30, tzinfo=WIB)
    assert held_until(at, WIB, clock(12, 0), clock(13, 0)) == datetime(
        2026, 11, 23, 13, 0, tzinfo=WIB
    )
    assert held_until(at, WIB, clock(0, 0), clock(0, 0)) is None


def test_quiet_hours_are_written_hh_mm() -> None:
    assert parse_clock("21:00") == clock(21, 0)
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock("9 malam")


def test_receipts_are_urgent_reminders_are_not() -> None:
    assert is_urgent("mpp.application.submitted.v1")
    assert is_urgent("mpp.complaint.filed.v1")
    assert not is_urgent("mpp.document.pickup_reminder.v1")
    assert not is_urgent("mpp.document.ready_for_pickup.v1")
