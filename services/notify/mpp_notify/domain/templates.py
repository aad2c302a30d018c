"""Default message templates per citizen-facing event, Bahasa Indonesia and English.

Rendered with Jinja2 in strict mode: a missing variable is an error, never
an empty gap in a message a citizen reads. Messages carry no NIK and no name.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

SERVICE_NAMES = {
    "ktp_el": ("KTP-el", "electronic ID card (KTP-el)"),
    "kk": ("Kartu Keluarga", "family card"),
    "akta_kelahiran": ("akta kelahiran", "birth certificate"),
    "akta_kematian": ("akta kematian", "death certificate"),
    "pindah_keluar": ("surat pindah keluar", "moving-out letter"),
    "pindah_datang": ("surat pindah datang", "moving-in letter"),
}

TEMPLATES: dict[str, dict[str, str]] = {
    "mpp.application.submitted.v1": {
        "id": "Permohonan {{ service }} Anda sudah kami terima. Kode pelacakan: {{ tracking_code }}. "
        "Simpan kode ini untuk memantau status dan mengambil dokumen.",
        "en": "We have received your {{ service }} application. Tracking code: {{ tracking_code }}. "
        "Keep it to follow the status and to collect the document.",
    },
    "mpp.application.verified.v1": {
        "id": "Berkas permohonan {{ tracking_code }} lengkap dan sudah diverifikasi. "
        "Dokumen Anda masuk antrean pencetakan; kami kabari saat siap diambil.",
        "en": "Your application {{ tracking_code }} is complete and verified. "
        "Your document is queued for production; we will tell you when it is ready.",
    },
    "mpp.application.rejected.v1": {
        "id": "Permohonan {{ tracking_code }} belum dapat diproses: {{ reason }}. "
        "Silakan lengkapi lalu ajukan kembali.",
        "en": "Application {{ tracking_code }} cannot be processed: {{ reason }}. "
        "Please complete it and apply again.",
    },
    "mpp.document.ready_for_pickup.v1": {
        "id": "Dokumen {{ tracking_code }} siap diambil di {{ pickup_point }}. "
        "Bawa KTP-el asli atau surat kuasa bila diwakilkan.",
        "en": "Document {{ tracking_code }} is ready for pickup at {{ pickup_point }}. "
        "Bring your original KTP-el, or a letter of authority for a representative.",
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
}

_compiled = {
    (event_type, language): _env.from_string(text)
    for event_type, by_language in TEMPLATES.items()
    for language, text in by_language.items()
}


def render(event_type: str, language: str, variables: dict[str, Any]) -> str:
    template = _compiled.get((event_type, language)) or _compiled[(event_type, "id")]
    return template.render(**variables)


def service_name(code: str, language: str) -> str:
    names = SERVICE_NAMES.get(code, (code, code))
    return names[1] if language == "en" else names[0]
