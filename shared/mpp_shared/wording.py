"""Dates and times as citizens read them, in the office's zone (WIB):
"Jumat, 4 Desember 2026 pukul 11.02 WIB" / "Friday, 4 December 2026 at
11:02 WIB". One vocabulary for every page, receipt and message."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from mpp_shared.errors import Language

WIB = ZoneInfo("Asia/Jakarta")

# (Indonesian, English)
DAYS: tuple[tuple[str, str], ...] = (
    ("Senin", "Monday"),
    ("Selasa", "Tuesday"),
    ("Rabu", "Wednesday"),
    ("Kamis", "Thursday"),
    ("Jumat", "Friday"),
    ("Sabtu", "Saturday"),
    ("Minggu", "Sunday"),
)
MONTHS: tuple[tuple[str, str], ...] = (
    ("Januari", "January"),
    ("Februari", "February"),
    ("Maret", "March"),
    ("April", "April"),
    ("Mei", "May"),
    ("Juni", "June"),
    ("Juli", "July"),
    ("Agustus", "August"),
    ("September", "September"),
    ("Oktober", "October"),
    ("November", "November"),
    ("Desember", "December"),
)


def pick(pair: tuple[str, str], language: Language) -> str:
    """The reader's half of an (Indonesian, English) pair."""
    return pair[1] if language == "en" else pair[0]


def in_wib(at: datetime) -> datetime:
    """`at` (timezone-aware) on the office's clock."""
    return at.astimezone(WIB)


def long_date(day: date, language: Language) -> str:
    """ "4 Desember 2026" / "4 December 2026"."""
    return f"{day.day} {pick(MONTHS[day.month - 1], language)} {day.year}"


def date_words(at: datetime, language: Language) -> str:
    """ "Senin, 3 Maret 2025" / "Monday, 3 March 2025" (the day in WIB)."""
    local = in_wib(at)
    return f"{pick(DAYS[local.weekday()], language)}, {long_date(local.date(), language)}"


def time_words(at: datetime, language: Language) -> str:
    """ "15.00 WIB" (Indonesian writes a dot) / "15:00 WIB"."""
    local = in_wib(at)
    return f"{local:%H:%M} WIB" if language == "en" else f"{local:%H.%M} WIB"


def datetime_words(at: datetime, language: Language) -> str:
    """ "Senin, 3 Maret 2025 pukul 15.00 WIB" / "Monday, 3 March 2025 at 15:00 WIB"."""
    joint = " at " if language == "en" else " pukul "
    return date_words(at, language) + joint + time_words(at, language)
