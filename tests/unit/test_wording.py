"""Dates and times as citizens read them (mpp_shared.wording): in WIB, in
the reader's language, the day turning over at midnight WIB, not UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mpp_shared.wording import date_words, datetime_words, long_date, time_words

LATE_UTC = datetime(2026, 12, 31, 17, 5, tzinfo=UTC)  # 00.05 WIB on 1 January 2027


def test_a_time_in_wib_with_each_languages_separator() -> None:
    assert time_words(LATE_UTC, "id") == "00.05 WIB"
    assert time_words(LATE_UTC, "en") == "00:05 WIB"


def test_a_date_with_the_month_in_words() -> None:
    assert long_date(date(2026, 8, 17), "id") == "17 Agustus 2026"
    assert long_date(date(2026, 5, 1), "en") == "1 May 2026"


def test_the_day_is_the_day_in_wib() -> None:
    assert date_words(LATE_UTC, "id") == "Jumat, 1 Januari 2027"
    assert date_words(LATE_UTC, "en") == "Friday, 1 January 2027"
    assert datetime_words(LATE_UTC, "id") == "Jumat, 1 Januari 2027 pukul 00.05 WIB"
    assert datetime_words(LATE_UTC, "en") == "Friday, 1 January 2027 at 00:05 WIB"
