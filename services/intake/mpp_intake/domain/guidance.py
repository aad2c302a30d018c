"""What the citizen is told about an application, in their language: the next
step, and what to bring to the counter. Wording rules only, no I/O."""

from __future__ import annotations

from mpp_intake.domain.applications import Status
from mpp_shared.errors import Language

# (en, id) for each progress step after verification that has words of its own.
_AFTER_VERIFICATION: dict[str, tuple[str, str]] = {
    "ready_for_pickup": (
        "Ready: collect it at the pickup point with your KTP-el",
        "Siap diambil: bawa KTP-el asli ke tempat pengambilan",
    ),
    "uncollected": (
        "Not collected in time: the document is now kept at the Disdukcapil office; "
        "collect it there with your KTP-el",
        "Tidak diambil sampai batas waktu: dokumen kini disimpan di kantor Disdukcapil; "
        "ambil di sana dengan membawa KTP-el asli",
    ),
    "picked_up": ("Handed over", "Sudah diserahkan"),
    "on_hold": (
        "Production is held; the reason is shown and we will tell you when it resumes",
        "Proses tertunda; alasannya tertera dan kami kabari saat dilanjutkan",
    ),
    "cancelled": (
        "The document was cancelled; please ask at the counter",
        "Dokumen dibatalkan; silakan tanyakan di loket",
    ),
}
_IN_PRODUCTION = (
    "Being produced; we will tell you when it is ready",
    "Sedang diproses; kami kabari saat siap",
)

# What to bring once the document is on its way to the pickup point: (id, en).
_BRING_FOR_PICKUP = (
    ("KTP-el asli pemohon", "the applicant's original KTP-el"),
    ("Kode pelacakan ini", "this tracking code"),
    (
        "Surat kuasa dan KTP-el wakil bila diambil orang lain",
        "a letter of authority and the representative's KTP-el if someone else collects it",
    ),
)
_BRING_FOR_PICKUP_FROM = ("ready_for_pickup", "uncollected", "produced", "queued", "verified")


def next_step(
    status: str, progress: str, missing: list[str], returned: list[str], language: Language
) -> str:
    """One sentence telling the citizen (through the officer) what happens next;
    `missing` and `returned` are the names of the papers concerned."""
    en = language == "en"
    if status == Status.INCOMPLETE:
        listing = "; ".join(missing)
        return (
            f"Bring the missing papers: {listing}"
            if en
            else f"Lengkapi persyaratan berikut: {listing}"
        )
    if status == Status.RETURNED:
        listing = "; ".join(returned)
        return (
            f"Correct and hand in again: {listing}"
            if en
            else f"Perbaiki lalu serahkan kembali: {listing}"
        )
    if status == Status.SUBMITTED:
        return "Waiting for verification of the papers" if en else "Menunggu verifikasi berkas"
    if status == Status.REJECTED:
        return (
            "The application was rejected; see the reason"
            if en
            else "Permohonan ditolak; lihat alasannya"
        )
    pair = _AFTER_VERIFICATION.get(progress, _IN_PRODUCTION)
    return pair[0] if en else pair[1]


def what_to_bring(progress: str, papers: list[str], language: Language) -> list[str]:
    """The papers still to hand in, or, once the document is on its way, what
    the citizen brings to collect it."""
    if progress in _BRING_FOR_PICKUP_FROM:
        return [pair[1] if language == "en" else pair[0] for pair in _BRING_FOR_PICKUP]
    return papers
