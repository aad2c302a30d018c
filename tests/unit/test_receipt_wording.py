"""How a receipt and the tracking page word dates, hours, steps, fees and
SLAs (mpp_intake.domain.wording): Indonesian by default, English on request,
times in WIB whatever zone they come in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mpp_intake.domain.applications import PROGRESS_STEPS
from mpp_intake.domain.catalog import CHANNELS, Alternative, Requirement, ServiceVersion
from mpp_intake.domain.wording import (
    STEP_WORDS,
    channel_words,
    date_words,
    datetime_words,
    fee_words,
    opening_hours_lines,
    sla_words,
    step_words,
    time_words,
)

SEED_MPP_HOURS = {
    "mon": ["08:00", "15:00"],
    "tue": ["08:00", "15:00"],
    "wed": ["08:00", "15:00"],
    "thu": ["08:00", "15:00"],
    "fri": ["08:00", "11:00"],
    "sat": ["08:00", "12:00"],
    "sun": None,
}


@pytest.mark.parametrize(
    ("at", "indonesian", "english"),
    [
        # 08:00 UTC is 15:00 WIB on the same Monday.
        (
            datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
            "Senin, 3 Maret 2025 pukul 15.00 WIB",
            "Monday, 3 March 2025 at 15:00 WIB",
        ),
        # 20:30 UTC on the last day of the year is already New Year's Day in WIB.
        (
            datetime(2025, 12, 31, 20, 30, tzinfo=UTC),
            "Kamis, 1 Januari 2026 pukul 03.30 WIB",
            "Thursday, 1 January 2026 at 03:30 WIB",
        ),
        # Given in WITA (UTC+8): one hour earlier in WIB.
        (
            datetime(2024, 8, 17, 10, 5, tzinfo=timezone(timedelta(hours=8))),
            "Sabtu, 17 Agustus 2024 pukul 09.05 WIB",
            "Saturday, 17 August 2024 at 09:05 WIB",
        ),
        (
            datetime(2026, 5, 29, 1, 0, tzinfo=UTC),
            "Jumat, 29 Mei 2026 pukul 08.00 WIB",
            "Friday, 29 May 2026 at 08:00 WIB",
        ),
    ],
)
def test_dates_in_words_in_wib(at: datetime, indonesian: str, english: str) -> None:
    assert datetime_words(at, "id") == indonesian
    assert datetime_words(at, "en") == english
    assert indonesian.startswith(date_words(at, "id"))
    assert indonesian.endswith(time_words(at, "id"))
    assert english.endswith(time_words(at, "en"))


def test_every_month_and_day_has_its_indonesian_name() -> None:
    months = [
        date_words(datetime(2025, m, 10, 5, tzinfo=UTC), "id").split()[2] for m in range(1, 13)
    ]
    assert months == [
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
    ]
    # 2025-03-03 is a Monday.
    days = [
        date_words(datetime(2025, 3, 3 + d, 5, tzinfo=UTC), "id").split(",")[0] for d in range(7)
    ]
    assert days == ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]


def test_opening_hours_group_consecutive_days_alike() -> None:
    assert opening_hours_lines(SEED_MPP_HOURS, "id") == [
        "Senin–Kamis 08.00–15.00",
        "Jumat 08.00–11.00",
        "Sabtu 08.00–12.00",
        "Minggu tutup",
    ]
    assert opening_hours_lines(SEED_MPP_HOURS, "en") == [
        "Monday–Thursday 08:00–15:00",
        "Friday 08:00–11:00",
        "Saturday 08:00–12:00",
        "Sunday closed",
    ]


def test_opening_hours_closed_days_and_gaps() -> None:
    # A day missing from the mapping is closed; days alike but apart are not merged.
    hours = {"mon": ["07:30", "12:00"], "wed": ["07:30", "12:00"]}
    assert opening_hours_lines(hours, "id") == [
        "Senin 07.30–12.00",
        "Selasa tutup",
        "Rabu 07.30–12.00",
        "Kamis–Minggu tutup",
    ]
    every_day = {k: ["08:00", "16:00"] for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert opening_hours_lines(every_day, "en") == ["Monday–Sunday 08:00–16:00"]
    assert opening_hours_lines(None, "id") == []
    assert opening_hours_lines({}, "id") == []


def test_every_progress_step_has_words_in_both_languages() -> None:
    steps = [*PROGRESS_STEPS, "completed"]
    assert set(steps) <= set(STEP_WORDS)
    for step in steps:
        indonesian, english = step_words(step, "id"), step_words(step, "en")
        assert indonesian and english and indonesian != english
        assert "_" not in indonesian + english, step
    assert step_words("ready_for_pickup", "id") == "Dokumen siap diambil"
    assert step_words("something_new", "en") == "something_new"


def test_channels_fees_and_slas_in_words() -> None:
    for channel in CHANNELS:
        assert channel_words(channel, "id") != channel_words(channel, "en")
    assert fee_words(0, "id") == "Rp 0 (gratis)"
    assert fee_words(0, "en") == "Rp 0 (free of charge)"
    assert fee_words(1500000, "id") == "Rp 1.500.000"
    assert sla_words(14, "working_days", "id") == "14 hari kerja"
    assert sla_words(3, "working_hours", "en") == "3 working hours"


def test_a_paper_handed_in_is_named_by_its_own_code() -> None:
    service = ServiceVersion(
        code="akta_kelahiran",
        version=1,
        name_id="Akta Kelahiran",
        name_en="Birth certificate",
        opd="DISDUKCAPIL",
        fee_idr=0,
        sla_amount=1,
        sla_unit="working_days",
        pickup_points=("MPP",),
        channels=("mpp_desk",),
        requirements=(
            Requirement(
                "buku_nikah_orang_tua",
                "Buku nikah orang tua",
                "Parents' marriage book",
                True,
                (Alternative("sptjm_pasangan", "SPTJM pasangan", "Sworn statement (SPTJM)"),),
            ),
        ),
    )
    assert service.paper_name("sptjm_pasangan", "id") == "SPTJM pasangan"
    assert service.paper_name("buku_nikah_orang_tua", "en") == "Parents' marriage book"
    assert service.paper_name("ijazah", "id") == "ijazah"
