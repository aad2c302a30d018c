"""Moving the running system's clock in end-to-end tests (mpp_shared.clock).

Every service of the session's stack reads its clock from one file
(CLOCK_FILE); so does the test process, so a test and the services agree on
"now". The clock only moves forward: whatever a service already decided
(a lease, a timer it fired) stays in the past.

``HandClock(at)``
    An injectable `now` (a callable) that an integration test moves by hand
    by setting `.at`.
``ServiceClock(path)``
    ``now()`` the services' current instant; ``travel_to(when)`` moves every
    service there (forward only; ValueError otherwise); ``local(day, hh, mm)``
    an instant in WIB.
``working_eve_of_holiday(after)``
    The first working day after `after` whose next day is a public holiday or
    a joint leave day in the `holidays` package: submitting that day puts the
    holiday (and any weekend beside it) between the request and its due date.
``add_working_days(start, count)``
    The `count`-th working day after `start`, counted here from the
    `holidays` package and the weekdays, apart from the services' calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

from mpp_shared import clock

WIB = ZoneInfo("Asia/Jakarta")


class HandClock:
    """An injectable `now` the test moves by hand (`clock.at = ...`)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class ServiceClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        clock.write_offset(path, timedelta(0))
        clock.use_file(path)

    def now(self) -> datetime:
        return clock.now()

    def travel_to(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError(f"{when} has no time zone")
        if when < self.now():
            raise ValueError(f"the clock only moves forward: {when} is before {self.now()}")
        clock.write_offset(self.path, when - datetime.now(UTC))

    @staticmethod
    def local(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=WIB)

    def close(self) -> None:
        clock.use_file(None)


def days_off(year: int) -> holidays.HolidayBase:
    """Indonesia's public holidays and joint leave days (cuti bersama), as the
    services count them by default (CALENDAR_CUTI_BERSAMA=true)."""
    return holidays.country_holidays(
        "ID", years=[year, year + 1], categories=("public", "government")
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in days_off(day.year)


def working_eve_of_holiday(after: date) -> date:
    day = after + timedelta(days=1)
    while not (is_working_day(day) and day + timedelta(days=1) in days_off(day.year)):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (a working day itself)."""
    day = start
    for _ in range(count):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return day
