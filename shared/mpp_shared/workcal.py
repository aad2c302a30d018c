"""Working-day calendar: office hours, Indonesian public holidays and local days
off, and the due-date arithmetic built on them (an application's
expected_ready_at, an SLA's due_at, a complaint's deadline).

Pure: no I/O and no clock; callers pass the times. Inputs are timezone-aware
datetimes in any zone; the calendar works in its configured zone (default
Asia/Jakarta, WIB) and returns aware datetimes in that zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXTRA_DAY_OFF = "Extra day off"  # holiday_name() of a configured day off (cuti bersama, local)
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Span = tuple[time, time]


@dataclass(frozen=True)
class OfficeHours:
    """Per weekday (0=Mon..6=Sun) the (open, close) times, or None when closed."""

    days: tuple[Span | None, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"office hours need 7 weekdays, got {len(self.days)}")
        for key, span in zip(DAY_KEYS, self.days, strict=True):
            if span is not None and not span[0] < span[1]:
                raise ValueError(f"office hours for {key!r}: opening must be before closing")

    @classmethod
    def default(cls) -> OfficeHours:
        """Mon–Thu 08:00–15:30, Fri 08:00–11:30 (Friday prayers), Sat/Sun closed."""
        week: Span = (time(8), time(15, 30))
        return cls((week, week, week, week, (time(8), time(11, 30)), None, None))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> OfficeHours:
        """From the stored JSON shape: {"mon": ["08:00", "15:00"], ..., "sun": null}.
        A missing day is closed; an unknown key or malformed value is a ValueError."""
        if not isinstance(data, Mapping):
            raise ValueError(f"office hours must be a mapping of {', '.join(DAY_KEYS)}")
        unknown = sorted(set(data) - set(DAY_KEYS))
        if unknown:
            raise ValueError(f"office hours: unknown day key(s) {unknown}; expected {DAY_KEYS}")
        return cls(tuple(_parse_span(key, data.get(key)) for key in DAY_KEYS))

    def to_mapping(self) -> dict[str, list[str] | None]:
        return {
            key: None if span is None else [t.strftime("%H:%M") for t in span]
            for key, span in zip(DAY_KEYS, self.days, strict=True)
        }


def _parse_span(key: str, value: Any) -> Span | None:
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, str) and _HHMM.fullmatch(v) for v in value)
    ):
        raise ValueError(
            f'office hours for {key!r}: expected ["HH:MM", "HH:MM"] or null, got {value!r}'
        )
    return time.fromisoformat(value[0]), time.fromisoformat(value[1])


class WorkCalendar:
    """Working days = weekdays with office hours that are neither an Indonesian
    national public holiday (`holidays` package, looked up lazily and kept per
    year) nor one of `extra_days_off` (cuti bersama, local days off)."""

    def __init__(
        self,
        office_hours: OfficeHours = OfficeHours.default(),
        extra_days_off: Iterable[date] = (),
        zone: str = "Asia/Jakarta",
        years: int | Iterable[int] | None = None,
        cuti_bersama: bool = False,
    ) -> None:
        if all(span is None for span in office_hours.days):
            raise ValueError("office hours: no weekday is open")
        self.office_hours = office_hours
        self.extra_days_off = frozenset(extra_days_off)
        self.zone = ZoneInfo(zone)
        # The library also knows the government's joint leave days (cuti
        # bersama, category "government"); services switch them on by setting.
        categories = ("public", "government") if cuti_bersama else ("public",)
        self._holidays = holidays.country_holidays("ID", years=years, categories=categories)

    @classmethod
    def from_settings(cls, days_off: str, **kwargs: Any) -> WorkCalendar:
        """`days_off`: comma-separated ISO dates, e.g. "2026-12-24, 2026-12-26"."""
        parsed: list[date] = []
        for item in (part.strip() for part in (days_off or "").split(",")):
            if not item:
                continue
            bad = f"days off: {item!r} is not a date (expected YYYY-MM-DD)"
            if not _ISO_DATE.fullmatch(item):
                raise ValueError(bad)
            try:
                parsed.append(date.fromisoformat(item))
            except ValueError:
                raise ValueError(bad) from None
        return cls(extra_days_off=parsed, **kwargs)

    # --- days ------------------------------------------------------------------

    def holiday_name(self, d: date) -> str | None:
        """The national holiday's name, else EXTRA_DAY_OFF for a configured day off."""
        name = self._holidays.get(d)
        if name:
            return str(name)
        return EXTRA_DAY_OFF if d in self.extra_days_off else None

    def is_working_day(self, d: date) -> bool:
        return self._span(d) is not None

    def _span(self, d: date) -> Span | None:
        span = self.office_hours.days[d.weekday()]
        if span is None or d in self.extra_days_off or d in self._holidays:
            return None
        return span

    def _next_working_day(self, d: date) -> tuple[date, Span]:
        while True:  # ends: some weekday is open and days off are finite
            d += timedelta(days=1)
            span = self._span(d)
            if span is not None:
                return d, span

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.zone)

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"datetime must be timezone-aware, got naive {at.isoformat()}")
        return at.astimezone(self.zone)

    # --- times -----------------------------------------------------------------

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself (in the calendar's zone) when within office hours
        (open <= t < close) on a working day, else the next opening time."""
        local = self._local(at)
        span = self._span(local.date())
        if span is not None and local.time() < span[1]:
            return local if local.time() >= span[0] else self._at(local.date(), span[0])
        d, span = self._next_working_day(local.date())
        return self._at(d, span[0])

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Due moment `days` working days after receipt: closing time of the
        `days`-th working day after day 0.

        Day 0 is the day of receipt if received during office hours on a working
        day; otherwise the request counts as received at the next opening, and
        day 0 is that working day. days=0 is a one-day service: closing time of
        day 0. Example (default hours, no holidays around): received Fri 13:00,
        after the 11:30 closing → day 0 is Mon; days=1 → Tue 15:30; days=0 →
        Mon 15:30. Received Tue 10:00 with days=1 → Wed 15:30.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        d = self.next_opening(start).date()
        span = self._span(d)
        assert span is not None
        for _ in range(days):
            d, span = self._next_working_day(d)
        return self._at(d, span[1])

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Consume `hours` of office time from `start` (skipping closed time).
        Example: Fri 10:30 + 2h with Fri closing 11:30 → Mon 09:00. A result
        that lands exactly on a closing time is that closing time."""
        if hours < 0:
            raise ValueError(f"hours must be >= 0, got {hours}")
        remaining = timedelta(hours=hours)
        current = self.next_opening(start)
        while True:
            span = self._span(current.date())
            assert span is not None
            closing = self._at(current.date(), span[1])
            if remaining <= closing - current:
                return current + remaining
            remaining -= closing - current
            current = self.next_opening(closing)

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """Working days d with a's date < d <= b's date (in the calendar's zone);
        0 when b's date is not after a's. E.g. working days late = (due_at, now)."""
        d, end = self._local(a).date(), self._local(b).date()
        count = 0
        while d < end:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count


class CalendarSettings(Protocol):
    """The settings a service's working calendar is made from."""

    @property
    def calendar_days_off(self) -> str: ...

    @property
    def calendar_cuti_bersama(self) -> bool: ...


@lru_cache(maxsize=8)
def working_calendar(days_off: str = "", cuti_bersama: bool = True) -> WorkCalendar:
    """The default office hours with the service's days off (settings
    `calendar_days_off`, `calendar_cuti_bersama`), built once per process."""
    return WorkCalendar.from_settings(days_off, cuti_bersama=cuti_bersama)


def calendar_of(settings: CalendarSettings) -> WorkCalendar:
    """The service's working calendar (default office hours), from its settings."""
    return working_calendar(settings.calendar_days_off, settings.calendar_cuti_bersama)
