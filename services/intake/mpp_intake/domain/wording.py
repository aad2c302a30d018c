"""How a citizen reads the dates, hours, steps and fees on a receipt and on
the public pages, in Bahasa Indonesia or English. Wording rules only, no I/O.

Times are shown in WIB (Asia/Jakarta), the zone of the working calendar:
"Senin, 3 Maret 2025 pukul 15.00 WIB" / "Monday, 3 March 2025 at 15:00 WIB".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mpp_shared.errors import Language
from mpp_shared.wording import DAYS, date_words, datetime_words, in_wib, pick, time_words

__all__ = [
    "date_words",
    "datetime_words",
    "in_wib",
    "time_words",
]

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Each step of an application's timeline (and its current progress) as the
# citizen reads it: (id, en).
STEP_WORDS: dict[str, tuple[str, str]] = {
    "incomplete": (
        "Permohonan diterima, persyaratan belum lengkap",
        "Application received; some papers are missing",
    ),
    "submitted": ("Permohonan diterima lengkap", "Application received, complete"),
    "completed": ("Persyaratan dilengkapi", "Missing papers handed in"),
    "returned": ("Dikembalikan untuk diperbaiki", "Returned for correction"),
    "resubmitted": ("Perbaikan diserahkan", "Corrections handed in"),
    "verified": ("Berkas diperiksa dan dinyatakan sah", "Papers checked and accepted"),
    "rejected": ("Permohonan ditolak", "Application rejected"),
    "queued": ("Masuk antrean pencetakan", "Waiting to be produced"),
    "in_production": ("Dokumen sedang dicetak", "The document is being produced"),
    "produced": ("Dokumen selesai dicetak", "The document has been produced"),
    "in_transit": (
        "Dokumen dikirim ke tempat pengambilan",
        "The document is on its way to the pickup point",
    ),
    "ready_for_pickup": ("Dokumen siap diambil", "The document is ready for pickup"),
    "uncollected": (
        "Tidak diambil tepat waktu; disimpan di kantor Disdukcapil",
        "Not collected in time; kept at the Disdukcapil office",
    ),
    "picked_up": ("Dokumen sudah diambil", "The document has been collected"),
    "on_hold": ("Proses tertunda", "Production is on hold"),
    "cancelled": ("Dokumen dibatalkan", "The document was cancelled"),
}

# How an application reached the office: (id, en).
CHANNEL_WORDS: dict[str, tuple[str, str]] = {
    "mpp_desk": ("Loket Mal Pelayanan Publik", "Public Service Mall counter"),
    "kecamatan_desk": ("Loket kecamatan", "Sub-district counter"),
    "desa": ("Pelayanan desa", "Village service"),
    "online": ("Permohonan daring", "Online application"),
}

SLA_UNIT_WORDS = {
    "working_days": ("hari kerja", "working days"),
    "working_hours": ("jam kerja", "working hours"),
}


def step_words(step: str, language: Language) -> str:
    """A timeline step or progress in the citizen's words (the code itself if unknown)."""
    pair = STEP_WORDS.get(step)
    return pick(pair, language) if pair else step


def channel_words(channel: str, language: Language) -> str:
    pair = CHANNEL_WORDS.get(channel)
    return pick(pair, language) if pair else channel


def fee_words(fee_idr: int, language: Language) -> str:
    """ "Rp 0 (gratis)" / "Rp 0 (free of charge)"; otherwise "Rp 15.000"."""
    amount = "Rp " + f"{fee_idr:,}".replace(",", ".")
    if fee_idr == 0:
        return amount + (" (free of charge)" if language == "en" else " (gratis)")
    return amount


def sla_words(amount: int, unit: str, language: Language) -> str:
    """ "14 hari kerja" / "14 working days"."""
    pair = SLA_UNIT_WORDS.get(unit, (unit, unit))
    return f"{amount} {pick(pair, language)}"


def _hours_text(span: Any, language: Language) -> str:
    if not span:
        return "closed" if language == "en" else "tutup"
    opening, closing = str(span[0]), str(span[1])
    if language != "en":
        opening, closing = opening.replace(":", "."), closing.replace(":", ".")
    return f"{opening}–{closing}"


def opening_hours_lines(hours: Mapping[str, Any] | None, language: Language) -> list[str]:
    """The week's opening hours, consecutive days with the same hours in one
    line: ["Senin–Kamis 08.00–15.00", "Jumat 08.00–11.00", "Sabtu–Minggu tutup"].
    A day missing from `hours` is closed."""
    if not hours:
        return []
    names = [pick(day, language) for day in DAYS]
    lines: list[str] = []
    start = 0
    for index in range(1, len(DAY_KEYS) + 1):
        same = index < len(DAY_KEYS) and hours.get(DAY_KEYS[index]) == hours.get(DAY_KEYS[start])
        if same:
            continue
        days = names[start] if index - 1 == start else f"{names[start]}–{names[index - 1]}"
        lines.append(f"{days} {_hours_text(hours.get(DAY_KEYS[start]), language)}")
        start = index
    return lines
