"""Default message templates per citizen-facing event, Bahasa Indonesia and English.

Rendered with Jinja2 in strict mode: a missing variable is an error, never
an empty gap in a message a citizen reads. Messages carry no NIK and no name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_WIB = ZoneInfo("Asia/Jakarta")
_MONTHS_EN = [
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
]
_MONTHS_ID = [
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


def _when(value: str | None, language: str) -> str:
    if not value:
        return "-"
    at = datetime.fromisoformat(value).astimezone(_WIB)
    if language == "en":
        return f"{at.day} {_MONTHS_EN[at.month - 1]} {at.year}, {at:%H:%M} WIB"
    return f"{at.day} {_MONTHS_ID[at.month - 1]} {at.year}, pukul {at:%H.%M} WIB"


def _names(items: list[dict[str, Any]], language: str) -> str:
    key = "name_en" if language == "en" else "name_id"
    parts = []
    for item in items:
        note = f" ({item['note']})" if item.get("note") else ""
        parts.append(f"{item[key]}{note}")
    return "; ".join(parts)


_env.filters["tanggal"] = lambda v: _when(v, "id")
_env.filters["date_en"] = lambda v: _when(v, "en")
_env.filters["daftar"] = lambda v: _names(v, "id")
_env.filters["listing_en"] = lambda v: _names(v, "en")

SERVICE_NAMES = {
    "ktp_el": ("KTP-el", "electronic ID card (KTP-el)"),
    "kia": ("Kartu Identitas Anak", "child identity card (KIA)"),
    "kk": ("Kartu Keluarga", "family card"),
    "akta_kelahiran": ("akta kelahiran", "birth certificate"),
    "akta_kematian": ("akta kematian", "death certificate"),
    "pindah_keluar": ("surat pindah keluar", "moving-out letter"),
    "pindah_datang": ("surat pindah datang", "moving-in letter"),
}

TEMPLATES: dict[str, dict[str, str]] = {
    "mpp.application.submitted.v1": {
        "id": "Permohonan {{ service }} Anda sudah kami terima dengan kode {{ tracking_code }}. "
        "Perkiraan selesai: {{ expected_ready_at | tanggal }}. Simpan kode ini.",
        "en": "We have received your {{ service }} application, code {{ tracking_code }}. "
        "Expected ready: {{ expected_ready_at | date_en }}. Keep this code.",
    },
    "mpp.application.incomplete.v1": {
        "id": "Permohonan {{ service }} Anda tercatat dengan kode {{ tracking_code }}, "
        "tetapi belum lengkap. Sebelum datang lagi, siapkan: {{ missing | daftar }}.",
        "en": "Your {{ service }} application is registered with code {{ tracking_code }} "
        "but is not complete. Before you come back, bring: {{ missing | listing_en }}.",
    },
    "mpp.application.completed.v1": {
        "id": "Berkas permohonan {{ tracking_code }} sudah lengkap. "
        "Perkiraan dokumen selesai: {{ expected_ready_at | tanggal }}.",
        "en": "Application {{ tracking_code }} is now complete. "
        "Expected ready: {{ expected_ready_at | date_en }}.",
    },
    "mpp.application.returned.v1": {
        "id": "Permohonan {{ tracking_code }} perlu diperbaiki: {{ items | daftar }}. "
        "Serahkan perbaikannya di loket dengan menyebut kode ini.",
        "en": "Application {{ tracking_code }} needs corrections: {{ items | listing_en }}. "
        "Hand them in at the counter quoting this code.",
    },
    "mpp.application.resubmitted.v1": {
        "id": "Perbaikan berkas {{ tracking_code }} sudah kami terima. "
        "Perkiraan dokumen selesai: {{ expected_ready_at | tanggal }}.",
        "en": "We have received the corrections for {{ tracking_code }}. "
        "Expected ready: {{ expected_ready_at | date_en }}.",
    },
    "mpp.application.verified.v1": {
        "id": "Berkas permohonan {{ tracking_code }} sudah diverifikasi dan masuk antrean pencetakan. "
        "Perkiraan selesai: {{ expected_ready_at | tanggal }}; kami kabari saat siap diambil.",
        "en": "Your application {{ tracking_code }} is verified and queued for production. "
        "Expected ready: {{ expected_ready_at | date_en }}; we will tell you when it is ready.",
    },
    "mpp.application.rejected.v1": {
        "id": "Permohonan {{ tracking_code }} tidak dapat diproses: {{ reason }}. "
        "Silakan hubungi loket untuk penjelasan.",
        "en": "Application {{ tracking_code }} cannot be processed: {{ reason }}. "
        "Please ask at the counter for an explanation.",
    },
    "mpp.document.ready_for_pickup.v1": {
        "id": "Dokumen {{ tracking_code }} siap diambil di {{ pickup_point }}. "
        "Bawa KTP-el asli atau surat kuasa bila diwakilkan.",
        "en": "Document {{ tracking_code }} is ready for pickup at {{ pickup_point }}. "
        "Bring your original KTP-el, or a letter of authority for a representative.",
    },
    "mpp.document.pickup_reminder.v1": {
        "id": "Pengingat: {{ service }} Anda (kode {{ tracking_code }}) sudah siap dan menunggu "
        "di {{ pickup_point }}. Ambil paling lambat {{ window_ends_at | tanggal }}, dengan membawa "
        "KTP-el asli, atau surat kuasa dan KTP-el wakil bila diwakilkan.",
        "en": "Reminder: your {{ service }} (code {{ tracking_code }}) is ready and waiting at "
        "{{ pickup_point }}. Collect it by {{ window_ends_at | date_en }}, bringing your original "
        "KTP-el, or a letter of authority and the representative's KTP-el if someone "
        "collects it for you.",
    },
    "mpp.document.uncollected.v1": {
        "id": "Dokumen {{ tracking_code }} belum diambil di {{ pickup_point }} sampai batas waktu "
        "{{ window_ends_at | tanggal }}. Dokumen kini disimpan di kantor Disdukcapil; ambil di "
        "sana dengan membawa KTP-el asli, atau surat kuasa dan KTP-el wakil bila diwakilkan.",
        "en": "Document {{ tracking_code }} was not collected at {{ pickup_point }} by "
        "{{ window_ends_at | date_en }}. It is now kept at the Disdukcapil office; collect it "
        "there with your original KTP-el, or a letter of authority and the representative's "
        "KTP-el if someone collects it for you.",
    },
    # For the supervisor, not the citizen.
    "mpp.complaint.escalated.v1": {
        "id": "Eskalasi: pengaduan {{ complaint_code }} ({{ category }}) melewati tenggat langkah "
        "{{ step }} pada {{ due_at | tanggal }}; OPD: {{ opd or '-' }}. Mohon segera ditindaklanjuti.",
        "en": "Escalation: complaint {{ complaint_code }} ({{ category }}) missed its {{ step }} "
        "deadline on {{ due_at | date_en }}; OPD: {{ opd or '-' }}. Please follow it up now.",
    },
    "mpp.document.on_hold.v1": {
        "id": "Proses dokumen {{ tracking_code }} tertunda: {{ reason_id }}. "
        "Kami kabari begitu dilanjutkan; Anda tidak perlu datang sebelum itu.",
        "en": "Production of document {{ tracking_code }} is held: {{ reason_en }}. "
        "We will tell you when it resumes; no need to come in before then.",
    },
    "mpp.document.cancelled.v1": {
        "id": "Dokumen {{ tracking_code }} dibatalkan: {{ reason }}. Silakan hubungi loket.",
        "en": "Document {{ tracking_code }} was cancelled: {{ reason }}. Please contact the counter.",
    },
    "mpp.sla.breached.v1": {
        "id": "Mohon maaf, dokumen {{ tracking_code }} belum selesai sesuai janji "
        "({{ due_at | tanggal }}). Kami sedang menyelesaikannya dan akan segera mengabari Anda.",
        "en": "We are sorry: document {{ tracking_code }} was not ready when promised "
        "({{ due_at | date_en }}). We are finishing it and will tell you shortly.",
    },
    "mpp.document.picked_up.v1": {
        "id": "Dokumen {{ tracking_code }} telah diserahkan. Terima kasih telah menggunakan layanan MPP.",
        "en": "Document {{ tracking_code }} has been handed over. Thank you for using the MPP.",
    },
    "mpp.complaint.filed.v1": {
        "id": "Pengaduan Anda kami terima dengan kode {{ complaint_code }}. "
        "Kami tindak lanjuti paling lambat sesuai ketentuan SP4N-LAPOR!.",
        "en": "We have received your complaint, code {{ complaint_code }}. "
        "It will be followed up within the SP4N-LAPOR! deadlines.",
    },
    "mpp.complaint.rejected.v1": {
        "id": "Pengaduan {{ complaint_code }} tidak kami proses: "
        "{% if reason == 'duplicate' %}sama dengan pengaduan {{ duplicate_of_code }} yang sedang "
        "ditindaklanjuti{% else %}bukan merupakan pengaduan pelayanan{% endif %}.",
        "en": "Complaint {{ complaint_code }} will not be taken further: "
        "{% if reason == 'duplicate' %}it duplicates complaint {{ duplicate_of_code }}, which is "
        "being followed up{% else %}it is not a complaint about the service{% endif %}.",
    },
    "mpp.complaint.responded.v1": {
        "id": "Pengaduan {{ complaint_code }} telah ditanggapi: {{ response }} "
        "Belum puas? Buka kembali sebelum {{ reopen_until | tanggal }} dengan kode pengaduan.",
        "en": "Complaint {{ complaint_code }} has been answered: {{ response }} "
        "Not satisfied? Reopen it before {{ reopen_until | date_en }} with the complaint code.",
    },
    "mpp.complaint.closed.v1": {
        "id": "Pengaduan {{ complaint_code }} telah ditutup. Terima kasih atas laporan Anda.",
        "en": "Complaint {{ complaint_code }} has been closed. Thank you for your report.",
    },
}

_compiled = {
    (event_type, language): _env.from_string(text)
    for event_type, by_language in TEMPLATES.items()
    for language, text in by_language.items()
}


def render(event_type: str, language: str, variables: dict[str, Any]) -> str:
    template = _compiled.get((event_type, language)) or _compiled[(event_type, "id")]
    return template.render(**variables)


def service_label(variables: dict[str, Any], language: str) -> str:
    """The service as the event names it (the catalog's name when the event
    was made); the fixed list only covers events that carry no name."""
    named = variables.get(f"service_name_{language}") or variables.get("service_name_id")
    return str(named) if named else service_name(variables.get("service_code", ""), language)


def service_name(code: str, language: str) -> str:
    names = SERVICE_NAMES.get(code, (code, code))
    return names[1] if language == "en" else names[0]
