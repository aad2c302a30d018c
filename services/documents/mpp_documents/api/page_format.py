"""Dates and times as the public pages write them: in the regency's time
(WIB), with month names in the reader's language."""

from __future__ import annotations

from datetime import date, datetime

from mpp_documents.domain.register import ZONE
from mpp_shared.errors import Language

MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def long_date(day: date, language: Language) -> str:
    """4 Desember 2026 / 4 December 2026."""
    return f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"


def wib_time(moment: datetime, language: Language) -> str:
    """The clock time in WIB: 09.30 WIB (Indonesian writes a dot), 09:30 WIB."""
    local = moment.astimezone(ZONE)
    separator = "." if language == "id" else ":"
    return f"{local:%H}{separator}{local:%M} WIB"


def wib_moment(moment: datetime, language: Language) -> str:
    """09.30 WIB, 4 Desember 2026."""
    return f"{wib_time(moment, language)}, {long_date(moment.astimezone(ZONE).date(), language)}"
