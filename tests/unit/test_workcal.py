"""Working-day calendar: office hours, national holidays, days off, due dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from mpp_shared.workcal import EXTRA_DAY_OFF, OfficeHours, WorkCalendar

WIB = ZoneInfo("Asia/Jakarta")


def wib(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


def assert_wib(value: datetime) -> None:
    assert isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key == "Asia/Jakarta"
    assert value.utcoffset() == timedelta(hours=7)


# --- days --------------------------------------------------------------------


def test_weekdays_weekend_and_library_holidays(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2026, 7, 13))  # Monday, no holiday
    assert not cal.is_working_day(date(2026, 7, 11))  # Saturday
    assert not cal.is_working_day(date(2026, 7, 12))  # Sunday
    assert cal.holiday_name(date(2026, 7, 13)) is None
    independence = date(2026, 8, 17)
    assert independence.weekday() == 0
    assert cal.holiday_name(independence) == holidays.country_holidays("ID").get(independence)
    assert cal.holiday_name(independence) is not None
    assert not cal.is_working_day(independence)


def test_holidays_are_looked_up_for_any_year(cal: WorkCalendar) -> None:
    assert cal.holiday_name(date(2031, 8, 17)) is not None
    assert cal.holiday_name(date(2019, 12, 25)) is not None


def test_request_before_a_weekday_holiday_skips_it(cal: WorkCalendar) -> None:
    eid_al_adha = date(2026, 5, 27)  # a Wednesday, per the library
    assert eid_al_adha.weekday() == 2
    name = cal.holiday_name(eid_al_adha)
    assert name is not None and "Adha" in name
    assert cal.is_working_day(date(2026, 5, 26)) and cal.is_working_day(date(2026, 5, 28))
    due = cal.add_working_days(wib(2026, 5, 26, 10), 1)
    assert due == wib(2026, 5, 28, 15, 30)


def test_friday_after_closing_counts_from_monday(cal: WorkCalendar) -> None:
    friday = wib(2026, 7, 10, 13)
    assert friday.weekday() == 4
    assert all(cal.is_working_day(date(2026, 7, d)) for d in (10, 13, 14))
    assert cal.add_working_days(friday, 0) == wib(2026, 7, 13, 15, 30)
    assert cal.add_working_days(friday, 1) == wib(2026, 7, 14, 15, 30)
    # before the 11:30 closing, Friday is day 0 and its closing is the short one
    assert cal.add_working_days(wib(2026, 7, 10, 11, 29), 0) == wib(2026, 7, 10, 11, 30)
    assert cal.add_working_days(wib(2026, 7, 10, 11, 30), 0) == wib(2026, 7, 13, 15, 30)


def test_cuti_bersama_extra_day_off_is_skipped() -> None:
    plain = WorkCalendar()
    with_cuti = WorkCalendar(extra_days_off=[date(2026, 12, 24)])
    assert plain.holiday_name(date(2026, 12, 25)) is not None  # Christmas, a Friday
    assert plain.add_working_days(wib(2026, 12, 23, 10), 1) == wib(2026, 12, 24, 15, 30)
    assert with_cuti.holiday_name(date(2026, 12, 24)) == EXTRA_DAY_OFF
    assert not with_cuti.is_working_day(date(2026, 12, 24))
    assert with_cuti.add_working_days(wib(2026, 12, 23, 10), 1) == wib(2026, 12, 28, 15, 30)


def test_weekend_submission_starts_at_next_working_day(cal: WorkCalendar) -> None:
    saturday = wib(2026, 7, 11, 10)
    assert cal.add_working_days(saturday, 0) == wib(2026, 7, 13, 15, 30)
    assert cal.add_working_days(saturday, 2) == wib(2026, 7, 15, 15, 30)


def test_zero_days_is_same_working_day(cal: WorkCalendar) -> None:
    assert cal.add_working_days(wib(2026, 7, 14, 9), 0) == wib(2026, 7, 14, 15, 30)
    assert cal.add_working_days(wib(2026, 7, 14, 6, 45), 0) == wib(2026, 7, 14, 15, 30)
    assert cal.add_working_days(wib(2026, 7, 14, 15, 30), 0) == wib(2026, 7, 15, 15, 30)
    with pytest.raises(ValueError, match="days must be >= 0"):
        cal.add_working_days(wib(2026, 7, 14, 9), -1)


def test_long_span_across_idul_fitri_2026() -> None:
    lib = holidays.country_holidays("ID", years=2026)
    fitri = sorted(d for d, name in lib.items() if "Fitr" in name)
    assert fitri == [date(2026, 3, 21), date(2026, 3, 22)], "library moved Idul Fitri 2026"
    assert lib.get(date(2026, 3, 19)) is not None  # Nyepi, Thursday
    assert lib.get(date(2026, 4, 3)) is not None  # Good Friday
    start = wib(2026, 3, 16, 10)  # Monday

    # national holidays only: Nyepi skipped, Idul Fitri falls on the weekend
    cal = WorkCalendar()
    assert cal.add_working_days(start, 10) == wib(2026, 3, 31, 15, 30)
    assert cal.working_days_between(start, cal.add_working_days(start, 10)) == 10

    # with the Lebaran cuti bersama configured: also skips 18, 20, 23, 24 March, Good Friday
    cuti = WorkCalendar.from_settings("2026-03-18,2026-03-20,2026-03-23,2026-03-24")
    due = cuti.add_working_days(start, 10)
    assert due == wib(2026, 4, 7, 15, 30)
    assert cuti.working_days_between(start, due) == 10


# --- working hours -----------------------------------------------------------


def test_working_hours_across_short_friday_and_weekend(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(wib(2026, 7, 10, 10, 30), 2) == wib(2026, 7, 13, 9)
    assert cal.add_working_hours(wib(2026, 7, 9, 14, 30), 3) == wib(2026, 7, 10, 10)
    # exactly filling Friday ends at Friday's closing, not Monday's opening
    assert cal.add_working_hours(wib(2026, 7, 9, 15), 4) == wib(2026, 7, 10, 11, 30)
    assert cal.add_working_hours(wib(2026, 7, 11, 10), 1.5) == wib(2026, 7, 13, 9, 30)
    # 7.5h Mon-Thu + 3.5h Fri = 33.5h in a week
    assert cal.add_working_hours(wib(2026, 7, 13, 8), 33.5 + 1) == wib(2026, 7, 20, 9)
    with pytest.raises(ValueError, match="hours must be >= 0"):
        cal.add_working_hours(wib(2026, 7, 10, 10), -1)


def test_next_opening(cal: WorkCalendar) -> None:
    inside = wib(2026, 7, 14, 10, 17)
    assert cal.next_opening(inside) == inside
    assert cal.next_opening(wib(2026, 7, 14, 7)) == wib(2026, 7, 14, 8)
    assert cal.next_opening(wib(2026, 7, 14, 16)) == wib(2026, 7, 15, 8)
    assert cal.next_opening(wib(2026, 8, 16, 12)) == wib(2026, 8, 18, 8)  # Sun, then holiday


def test_working_days_between(cal: WorkCalendar) -> None:
    due = wib(2026, 7, 10, 11, 30)  # Friday closing
    assert cal.working_days_between(due, wib(2026, 7, 10, 14)) == 0
    assert cal.working_days_between(due, wib(2026, 7, 12, 9)) == 0  # weekend
    assert cal.working_days_between(due, wib(2026, 7, 13, 9)) == 1
    assert cal.working_days_between(due, wib(2026, 7, 17, 9)) == 5
    assert cal.working_days_between(wib(2026, 8, 14, 9), wib(2026, 8, 18, 9)) == 1  # 17 Aug
    assert cal.working_days_between(wib(2026, 7, 17, 9), due) == 0


# --- time zones --------------------------------------------------------------


def test_utc_inputs_are_converted_and_results_are_wib(cal: WorkCalendar) -> None:
    utc_morning = datetime(2026, 7, 14, 2, 0, tzinfo=UTC)  # 09:00 WIB
    opening = cal.next_opening(utc_morning)
    assert opening == wib(2026, 7, 14, 9)
    assert opening.hour == 9
    assert_wib(opening)
    due = cal.add_working_days(utc_morning, 0)
    assert due == wib(2026, 7, 14, 15, 30)
    assert_wib(due)
    assert_wib(cal.add_working_hours(utc_morning, 1))
    # 06:00 UTC Friday = 13:00 WIB, after Friday closing
    assert cal.add_working_days(datetime(2026, 7, 10, 6, tzinfo=UTC), 0) == wib(2026, 7, 13, 15, 30)
    # 20:00 UTC Sunday = 03:00 WIB Monday: day 0 is that Monday
    sunday_night_utc = datetime(2026, 7, 12, 20, tzinfo=UTC)
    assert cal.add_working_days(sunday_night_utc, 0) == wib(2026, 7, 13, 15, 30)


def test_naive_datetimes_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.next_opening(datetime(2026, 7, 14, 9))


def test_other_zone() -> None:
    wita = WorkCalendar(zone="Asia/Makassar")
    result = wita.next_opening(datetime(2026, 7, 14, 0, 30, tzinfo=UTC))
    assert result.utcoffset() == timedelta(hours=8) and result.hour == 8 and result.minute == 30


# --- office hours ------------------------------------------------------------


def test_default_office_hours() -> None:
    days = OfficeHours.default().days
    assert days[:4] == ((time(8), time(15, 30)),) * 4
    assert days[4] == (time(8), time(11, 30))
    assert days[5] is None and days[6] is None


def test_office_hours_mapping_round_trip() -> None:
    stored = {
        "mon": ["08:00", "15:00"],
        "tue": ["08:00", "15:00"],
        "wed": ["08:00", "15:00"],
        "thu": ["07:30", "15:00"],
        "fri": ["08:00", "11:00"],
        "sat": ["08:00", "12:00"],
        "sun": None,
    }
    hours = OfficeHours.from_mapping(stored)
    assert hours.days[3] == (time(7, 30), time(15))
    assert hours.to_mapping() == stored
    assert OfficeHours.from_mapping(OfficeHours.default().to_mapping()) == OfficeHours.default()
    # a pickup point's own hours drive the calendar: Friday closes at 11:00, Saturday open
    cal = WorkCalendar(office_hours=hours)
    assert cal.add_working_days(wib(2026, 7, 10, 11, 15), 0) == wib(2026, 7, 11, 12)


def test_missing_day_is_closed() -> None:
    hours = OfficeHours.from_mapping({"mon": ["08:00", "12:00"]})
    assert hours.days[0] == (time(8), time(12)) and hours.days[1:] == (None,) * 6


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"monday": ["08:00", "15:00"]}, "unknown day key"),
        ({"mon": ["8am", "15:00"]}, r"'mon'.*HH:MM"),
        ({"tue": ["08:00"]}, r"'tue'.*HH:MM"),
        ({"wed": "08:00-15:00"}, r"'wed'.*HH:MM"),
        ({"thu": ["08:00", "24:00"]}, r"'thu'.*HH:MM"),
        ({"fri": [8, 11]}, r"'fri'.*HH:MM"),
        ({"sat": ["12:00", "08:00"]}, r"'sat'.*opening must be before closing"),
        ({"sun": ["08:00", "08:00"]}, r"'sun'.*opening must be before closing"),
        (["08:00", "15:00"], "must be a mapping"),
    ],
)
def test_malformed_office_hours_are_refused(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OfficeHours.from_mapping(data)  # type: ignore[arg-type]


def test_calendar_needs_an_open_day() -> None:
    with pytest.raises(ValueError, match="no weekday is open"):
        WorkCalendar(office_hours=OfficeHours.from_mapping({}))
    with pytest.raises(ValueError, match="7 weekdays"):
        OfficeHours((None,) * 6)


# --- settings ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("2026-12-24,2026-12-26", {date(2026, 12, 24), date(2026, 12, 26)}),
        (" 2026-12-24 , ,2026-12-26, ", {date(2026, 12, 24), date(2026, 12, 26)}),
        ("", set()),
        ("  ", set()),
    ],
)
def test_from_settings_parses_days_off(setting: str, expected: set[date]) -> None:
    cal = WorkCalendar.from_settings(setting)
    assert cal.extra_days_off == expected
    for d in expected:
        assert cal.holiday_name(d) is not None and not cal.is_working_day(d)


@pytest.mark.parametrize("bad", ["2026-13-01", "24/12/2026", "20261224", "2026-02-30", "soon"])
def test_from_settings_refuses_bad_dates(bad: str) -> None:
    message = rf"days off: '{bad}' is not a date \(expected YYYY-MM-DD\)"
    with pytest.raises(ValueError, match=message):
        WorkCalendar.from_settings(f"2026-12-24, {bad}")


def test_from_settings_passes_other_options() -> None:
    hours = OfficeHours.from_mapping({"mon": ["09:00", "12:00"]})
    cal = WorkCalendar.from_settings("2026-07-13", office_hours=hours)
    assert cal.office_hours == hours
    assert cal.add_working_days(wib(2026, 7, 13, 10), 0) == wib(2026, 7, 20, 12)


def test_cuti_bersama_from_the_library_when_switched_on() -> None:
    from datetime import date as _date

    plain = WorkCalendar()
    with_leave = WorkCalendar(cuti_bersama=True)
    # 24 December 2026 is the government's Christmas joint leave day.
    assert plain.is_working_day(_date(2026, 12, 24))
    assert not with_leave.is_working_day(_date(2026, 12, 24))
    assert with_leave.holiday_name(_date(2026, 12, 24)) is not None
