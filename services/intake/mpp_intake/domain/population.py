"""The village's reports of births, deaths and moves (pure rules, no I/O).

A desa or kelurahan learns first of a birth, a death or a family moving; its
officer reports it, and each report becomes the outreach entries of the
documents the family now needs. A report not followed up within the working
days of POPULATION_FOLLOW_UP_DAYS is escalated once to the kecamatan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from stdnum import numdb

from mpp_shared.contacts import InvalidValue
from mpp_shared.workcal import WorkCalendar

# A report of something further back than this is a typing error, not news
# the desa just learned (late registrations go to the counter directly).
OLDEST_YEARS = 10
NOTE_MAX = 500
_KK_SEPARATORS = re.compile(r"[\s.\-]")
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_KECAMATAN_CODE = re.compile(r"^3506\d{2}$", re.ASCII)
_KK = re.compile(r"^\d{16}$", re.ASCII)


class Kind(StrEnum):
    BIRTH = "birth"
    DEATH = "death"
    MOVE_IN = "move_in"
    MOVE_OUT = "move_out"


# The documents the family now needs: catalog services, one outreach entry each.
SERVICES: dict[Kind, tuple[str, ...]] = {
    Kind.BIRTH: ("akta_kelahiran", "kk"),
    Kind.DEATH: ("akta_kematian", "kk"),
    Kind.MOVE_OUT: ("pindah_keluar",),
    Kind.MOVE_IN: ("pindah_datang",),
}


def services_of(kind: Kind | str) -> tuple[str, ...]:
    return SERVICES[Kind(kind)]


def needs_subject_nik(kind: Kind | str) -> bool:
    """A birth's child has no NIK yet; the deceased and those moving have one."""
    return Kind(kind) != Kind.BIRTH


# --- messages ------------------------------------------------------------------

MESSAGES: dict[str, tuple[str, str]] = {
    "kk_format": (
        "nomor KK harus 16 angka",
        "the family card (KK) number must be 16 digits",
    ),
    "kk_region": (
        "nomor KK tidak sah: 4 angka pertamanya bukan kode kabupaten/kota yang ada",
        "the family card (KK) number is not valid: its first 4 digits are no existing "
        "regency or city code",
    ),
    "kk_serial": (
        "nomor KK tidak sah: 4 angka terakhirnya tidak boleh 0000",
        "the family card (KK) number is not valid: its last 4 digits cannot be 0000",
    ),
    "occurred_in_future": (
        "tanggal kejadian tidak boleh setelah hari ini",
        "the date it happened cannot be after today",
    ),
    "occurred_too_long_ago": (
        "tanggal kejadian lebih dari 10 tahun lalu: periksa tahunnya (pencatatan yang "
        "terlambat sejauh itu diurus langsung di loket)",
        "the date it happened is more than 10 years ago: check the year (so late a "
        "registration is made at the counter directly)",
    ),
    "subject_nik_required": (
        "NIK wajib diisi untuk kematian (NIK almarhum/almarhumah) dan untuk pindah",
        "the NIK is required for a death (the deceased's NIK) and for a move",
    ),
    "subject_nik_for_birth": (
        "bayi yang baru lahir belum punya NIK: kosongkan NIK",
        "a newborn child has no NIK yet: leave the NIK empty",
    ),
    "unknown_paper": (
        "dokumen tidak dikenal untuk layanan {services}: {value}",
        "paper not known to the services {services}: {value}",
    ),
    "note_too_long": (
        f"catatan terlalu panjang (maksimal {NOTE_MAX} karakter)",
        f"the note is too long (at most {NOTE_MAX} characters)",
    ),
    "period_format": (
        "periode harus ditulis TTTT-BB, misalnya 2026-11",
        "the period must be written YYYY-MM, e.g. 2026-11",
    ),
    "kecamatan_code_invalid": (
        "kode kecamatan harus 6 angka kode wilayah di Kabupaten Kediri (contoh: 350617)",
        "the kecamatan code must be a 6-digit region code in Kabupaten Kediri (e.g. 350617)",
    ),
    "date_range": (
        "tanggal awal harus sebelum atau sama dengan tanggal akhir",
        "the start date must be on or before the end date",
    ),
}


def message(code: str, **values: Any) -> tuple[str, str]:
    id_, en = MESSAGES[code]
    return id_.format(**values), en.format(**values)


# --- checks --------------------------------------------------------------------


def validate_kk(value: str) -> str:
    """A family card (KK) number: 16 digits whose first four name an existing
    regency or city (its 6-digit region code, then the issue date and a
    serial). No check digit exists, so this is as far as it can be checked."""
    compact = _KK_SEPARATORS.sub("", value)
    if not _KK.match(compact):
        raise InvalidValue("kk_format", MESSAGES)
    parts = numdb.get("id/loc").info(compact[:4])
    if len(parts) != 2 or not all(props for _, props in parts):
        raise InvalidValue("kk_region", MESSAGES)
    if compact.endswith("0000"):
        raise InvalidValue("kk_serial", MESSAGES)
    return compact


def check_occurred_on(value: date, today: date) -> date:
    """Not after today (on the service clock), not absurdly long ago."""
    if value > today:
        raise InvalidValue("occurred_in_future", MESSAGES)
    if value < _years_before(today, OLDEST_YEARS):
        raise InvalidValue("occurred_too_long_ago", MESSAGES)
    return value


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def unknown_papers(papers: list[str], known: set[str]) -> list[str]:
    """The papers (requirement codes) no service of the report knows, in order."""
    return [p for p in papers if p not in known]


def is_kecamatan_code(code: str) -> bool:
    return bool(_KECAMATAN_CODE.match(code))


# --- deadline ------------------------------------------------------------------


def follow_up_due(calendar: WorkCalendar, reported_at: datetime, days: int) -> datetime:
    """Closing time of the `days`-th working day after the report (a report
    made after hours counts from the next opening)."""
    return calendar.add_working_days(reported_at, days)


# --- periods -------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar month, `YYYY-MM`: reports that happened from `first` to `last`."""

    text: str
    first: date
    last: date


def parse_period(value: str) -> Period:
    match = _PERIOD.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) < 9999:
        raise InvalidValue("period_format", MESSAGES)
    year, month = int(match.group(1)), int(match.group(2))
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year:04d}-{month:02d}", first, following - timedelta(days=1))


# --- figures -------------------------------------------------------------------

# The counts of one desa and kind, in the order of the CSV's columns.
FIGURES = ("reported", "followed_up", "applied", "overdue", "escalated")


CSV_HEADER = ["desa_code", "kind", *FIGURES]
