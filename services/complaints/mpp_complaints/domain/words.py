"""What a reporter reads about their complaint, in Bahasa Indonesia and
English: its status, the running step, the progress of the request it names,
and a deadline as a date and time in WIB. Pure."""

from __future__ import annotations

from mpp_shared.errors import Language
from mpp_shared.wording import pick

STATUS_WORDS: dict[str, tuple[str, str]] = {
    "received": ("Diterima, menunggu verifikasi", "Received, waiting to be verified"),
    "verified": ("Diverifikasi, segera diteruskan ke OPD", "Verified, about to go to the agency"),
    "rejected": ("Tidak dapat diproses", "Not taken up"),
    "assigned": ("Diteruskan ke OPD yang bertanggung jawab", "Sent to the responsible agency"),
    "in_progress": ("Sedang ditangani OPD", "Being handled by the agency"),
    "responded": ("Sudah dijawab", "Answered"),
    "closed": ("Selesai", "Closed"),
    "reopened": ("Dibuka kembali", "Reopened"),
}

STEP_WORDS: dict[str, tuple[str, str]] = {
    "verification": (
        "Pemeriksaan oleh petugas pengaduan",
        "Being checked by the complaints officer",
    ),
    "follow_up": ("Tindak lanjut dan jawaban oleh OPD", "Follow-up and answer by the agency"),
    "information": (
        "Menyiapkan jawaban atas permintaan informasi (paling lama 10 hari kerja, dapat "
        "diperpanjang sekali 7 hari kerja)",
        "Preparing the answer to the request for information (10 working days at most, "
        "extendable once by 7)",
    ),
    "auto_close": (
        "Menunggu balasan Anda; tanpa balasan pengaduan ditutup otomatis",
        "Waiting for your reply; without one the complaint closes by itself",
    ),
}

REJECTION_WORDS: dict[str, tuple[str, str]] = {
    "not_a_complaint": ("Bukan pengaduan atas pelayanan", "Not a complaint about the service"),
    "duplicate": ("Sama dengan pengaduan lain", "The same as another complaint"),
}

# The request's progress as complaints learns it from intake's and documents' events.
PROGRESS_WORDS: dict[str, tuple[str, str]] = {
    "submitted": ("Permohonan diterima", "Application received"),
    "incomplete": ("Persyaratan belum lengkap", "Papers still missing"),
    "verified": ("Berkas diverifikasi", "Papers verified"),
    "rejected": ("Permohonan ditolak", "Application rejected"),
    "returned": ("Berkas dikembalikan untuk dilengkapi", "Papers returned to be completed"),
    "queued": ("Menunggu dicetak", "Waiting to be produced"),
    "in_production": ("Sedang dicetak", "Being produced"),
    "produced": ("Selesai dicetak", "Produced"),
    "in_transit": ("Dikirim ke tempat pengambilan", "On its way to the pickup point"),
    "on_hold": ("Ditunda", "On hold"),
    "cancelled": ("Dibatalkan", "Cancelled"),
    "ready_for_pickup": ("Siap diambil", "Ready for pickup"),
    "picked_up": ("Sudah diambil", "Picked up"),
}


def words(table: dict[str, tuple[str, str]], key: str | None, language: Language) -> str | None:
    """The words for `key` (the key itself when the table lacks it; None for None)."""
    if key is None:
        return None
    pair = table.get(key)
    return pick(pair, language) if pair else key
