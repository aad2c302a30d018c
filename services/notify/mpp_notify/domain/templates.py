"""Message templates: one per event type, channel and language.

The shipped defaults live here (Bahasa Indonesia and English; SMS and WhatsApp
share the body, e-mail adds a subject line); officers override them over the
API, stored in `message_templates`. Every template is checked when it is
saved (syntax, variables the event provides, filters, no personal data,
rendered against the event's example) so that a missing variable is an error
at save time, never a gap in a message a citizen reads. Messages carry no
NIK, no name and no contact detail, not even masked.

Templates are Jinja2 in a sandbox (an officer writes them, the service runs
them) with strict undefined; all three channels are plain text, so nothing
is escaped.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from mpp_shared.events import examples
from mpp_shared.events.envelope import EventData, registered_types

log = logging.getLogger(__name__)

CHANNELS = ("sms", "whatsapp", "email")
LANGUAGES = ("id", "en")
ESCALATION = "mpp.complaint.escalated.v1"  # for the supervisor's desk, not a citizen
# Longest template text per channel: 10 SMS segments, WhatsApp's text limit, a long e-mail.
BODY_LIMITS = {"sms": 1600, "whatsapp": 4096, "email": 20000}
SUBJECT_LIMIT = 200
# Event fields that identify a person: never in a message, masked or not.
PERSONAL_FIELDS = frozenset(
    {
        "nik_masked",
        "applicant_name_masked",
        "contact_sealed",
        "representative_masked",
        "holder_nik_check",
    }
)
_MAX_OUTPUT = 20_000  # characters one `*` may produce inside a template

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


def _blank_none(value: Any) -> Any:
    """An absent optional value reads as "-", never as "None"."""
    return "-" if value is None else value


class _MessageEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus a cap on `*` and `**` so that a template cannot make
    the service build a gigabyte string."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator == "*":
            sized, times = (left, right) if isinstance(left, str | list | tuple) else (right, left)
            if isinstance(sized, str | list | tuple) and isinstance(times, int):
                if len(sized) * times > _MAX_OUTPUT:
                    raise SecurityError("repetition too long")
        return super().call_binop(context, operator, left, right)


_env = _MessageEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, finalize=_blank_none
)
_env.filters["tanggal"] = lambda v: _when(v, "id")
_env.filters["date_en"] = lambda v: _when(v, "en")
_env.filters["daftar"] = lambda v: _names(v, "id")
_env.filters["listing_en"] = lambda v: _names(v, "en")
MPP_FILTERS = ("tanggal", "date_en", "daftar", "listing_en")

SERVICE_NAMES = {
    "ktp_el": ("KTP-el", "electronic ID card (KTP-el)"),
    "kia": ("Kartu Identitas Anak", "child identity card (KIA)"),
    "kk": ("Kartu Keluarga", "family card"),
    "akta_kelahiran": ("akta kelahiran", "birth certificate"),
    "akta_kematian": ("akta kematian", "death certificate"),
    "pindah_keluar": ("surat pindah keluar", "moving-out letter"),
    "pindah_datang": ("surat pindah datang", "moving-in letter"),
}

# What happened, what to do next, what to bring, when and where.
_AT_POINT_ID = "{% if pickup_point %} di {{ pickup_point }}{% endif %}"
_AT_POINT_EN = "{% if pickup_point %} at {{ pickup_point }}{% endif %}"
_BRING_ID = "KTP-el asli, atau surat kuasa dan KTP-el wakil bila diwakilkan"
_BRING_EN = (
    "your original KTP-el, or a letter of authority and the representative's "
    "KTP-el if someone collects it for you"
)

# Message bodies per event type and language (SMS, WhatsApp and e-mail).
TEMPLATES: dict[str, dict[str, str]] = {
    "mpp.application.submitted.v1": {
        "id": "Permohonan {{ service }} Anda sudah kami terima dengan kode {{ tracking_code }}. "
        "Perkiraan selesai: {{ expected_ready_at | tanggal }}. Simpan kode ini.",
        "en": "We have received your {{ service }} application, code {{ tracking_code }}. "
        "Expected ready: {{ expected_ready_at | date_en }}. Keep this code.",
    },
    "mpp.application.incomplete.v1": {
        "id": "Permohonan {{ service }} Anda tercatat dengan kode {{ tracking_code }}, "
        "tetapi belum lengkap sehingga belum dapat diproses. Serahkan kekurangannya di loket "
        "dengan menyebut kode ini. Sebelum datang lagi, siapkan: {{ missing | daftar }}.",
        "en": "Your {{ service }} application is registered with code {{ tracking_code }} "
        "but is not complete, so it cannot be processed yet. Hand in what is missing at the "
        "counter, quoting this code. Before you come back, bring: {{ missing | listing_en }}.",
    },
    "mpp.application.completed.v1": {
        "id": "Berkas permohonan {{ service }} Anda (kode {{ tracking_code }}) sudah lengkap dan "
        "mulai kami proses. Perkiraan dokumen selesai: {{ expected_ready_at | tanggal }}. "
        "Kami kabari lagi saat dokumen siap diambil.",
        "en": "Your {{ service }} application {{ tracking_code }} is now complete and being "
        "processed. Expected ready: {{ expected_ready_at | date_en }}. We will message you "
        "again when it is ready for pickup.",
    },
    "mpp.application.returned.v1": {
        "id": "Permohonan {{ service }} Anda (kode {{ tracking_code }}) perlu diperbaiki: "
        "{{ items | daftar }}. Serahkan perbaikannya di loket dengan menyebut kode ini; "
        "proses dilanjutkan setelah perbaikan kami terima.",
        "en": "Your {{ service }} application {{ tracking_code }} needs corrections: "
        "{{ items | listing_en }}. Hand them in at the counter quoting this code; "
        "processing resumes once we have them.",
    },
    "mpp.application.resubmitted.v1": {
        "id": "Perbaikan berkas {{ tracking_code }} sudah kami terima dan proses dilanjutkan. "
        "Perkiraan dokumen selesai: {{ expected_ready_at | tanggal }}. "
        "Kami kabari saat dokumen siap diambil.",
        "en": "We have received the corrections for {{ tracking_code }} and processing "
        "continues. Expected ready: {{ expected_ready_at | date_en }}. "
        "We will tell you when it is ready for pickup.",
    },
    "mpp.application.verified.v1": {
        "id": "Berkas permohonan {{ tracking_code }} sudah diverifikasi dan masuk antrean "
        "pencetakan. Perkiraan selesai: {{ expected_ready_at | tanggal }}; kami kabari saat "
        "siap diambil. Anda tidak perlu datang sebelum itu.",
        "en": "Your application {{ tracking_code }} is verified and queued for production. "
        "Expected ready: {{ expected_ready_at | date_en }}; we will tell you when it is ready. "
        "No need to come in before then.",
    },
    "mpp.application.rejected.v1": {
        "id": "Permohonan {{ service }} dengan kode {{ tracking_code }} tidak dapat diproses: "
        "{{ reason }}. Untuk penjelasan atau untuk mengajukan permohonan baru, datanglah ke "
        "loket dengan membawa kode ini.",
        "en": "Your {{ service }} application {{ tracking_code }} cannot be processed: "
        "{{ reason }}. For an explanation or to apply again, come to the counter with "
        "this code.",
    },
    "mpp.document.ready_for_pickup.v1": {
        "id": "Dokumen {{ service }} Anda (kode {{ tracking_code }}) sudah siap diambil"
        + _AT_POINT_ID
        + " pada jam layanan. Sebutkan kode ini di loket dan bawa "
        + _BRING_ID
        + ".",
        "en": "Your {{ service }} with code {{ tracking_code }} is ready for pickup"
        + _AT_POINT_EN
        + " during opening hours. Quote this code at the counter and bring "
        + _BRING_EN
        + ".",
    },
    "mpp.document.pickup_reminder.v1": {
        "id": "Pengingat: {{ service }} Anda (kode {{ tracking_code }}) sudah siap dan menunggu"
        + _AT_POINT_ID
        + ". Ambil paling lambat {{ window_ends_at | tanggal }}, dengan membawa "
        + _BRING_ID
        + ".",
        "en": "Reminder: your {{ service }} with code {{ tracking_code }} is ready and waiting"
        + _AT_POINT_EN
        + ". Collect it by {{ window_ends_at | date_en }}, bringing "
        + _BRING_EN
        + ".",
    },
    "mpp.document.uncollected.v1": {
        "id": "Dokumen {{ tracking_code }} belum diambil"
        + _AT_POINT_ID
        + " sampai batas waktu {{ window_ends_at | tanggal }}. Dokumen kini disimpan di kantor "
        "Disdukcapil; ambil di sana dengan menyebut kode ini dan membawa " + _BRING_ID + ".",
        "en": "Document {{ tracking_code }} was not collected"
        + _AT_POINT_EN
        + " by {{ window_ends_at | date_en }}. It is now kept at the Disdukcapil office; "
        "collect it there quoting this code and bringing " + _BRING_EN + ".",
    },
    # For the supervisor, not the citizen.
    ESCALATION: {
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
        "id": "Proses {{ service }} Anda (kode {{ tracking_code }}) dibatalkan: {{ reason }}. "
        "Untuk penjelasan, datangi atau hubungi loket dengan menyebut kode ini.",
        "en": "Your {{ service }} with code {{ tracking_code }} was cancelled: {{ reason }}. "
        "For an explanation, visit or contact the counter quoting this code.",
    },
    "mpp.sla.breached.v1": {
        "id": "Mohon maaf, dokumen {{ tracking_code }} belum selesai sesuai janji "
        "({{ due_at | tanggal }}). Kami sedang menyelesaikannya dan akan segera mengabari Anda; "
        "Anda tidak perlu datang sebelum ada kabar siap diambil.",
        "en": "We are sorry: document {{ tracking_code }} was not ready when promised "
        "({{ due_at | date_en }}). We are finishing it and will tell you shortly; no need to "
        "come in before we say it is ready.",
    },
    "mpp.document.picked_up.v1": {
        "id": "Dokumen {{ tracking_code }} telah diserahkan"
        "{% if collected_by == 'representative' %} kepada wakil Anda{% endif %}. "
        "Periksa datanya; bila ada yang salah atau Anda tidak mengambil maupun mewakilkannya, "
        "segera datangi loket dengan menyebut kode ini. Terima kasih telah menggunakan layanan MPP.",
        "en": "Document {{ tracking_code }} has been handed over"
        "{% if collected_by == 'representative' %} to your representative{% endif %}. "
        "Check its details; if anything is wrong, or you neither collected it nor sent someone, "
        "come to the counter quoting this code. Thank you for using the MPP.",
    },
    "mpp.complaint.filed.v1": {
        "id": "Pengaduan Anda kami terima dengan kode {{ complaint_code }}. Kami tindak lanjuti "
        "sesuai tenggat SP4N-LAPOR! dan mengabari Anda saat ada tanggapan. Simpan kode ini "
        "untuk menanyakan perkembangannya.",
        "en": "We have received your complaint, code {{ complaint_code }}. It will be followed "
        "up within the SP4N-LAPOR! deadlines and we will message you when it is answered. "
        "Keep this code to ask about its progress.",
    },
    "mpp.complaint.rejected.v1": {
        "id": "Pengaduan {{ complaint_code }} tidak kami proses: "
        "{% if reason == 'duplicate' %}sama dengan pengaduan "
        "{% if duplicate_of_code %}{{ duplicate_of_code }}{% else %}lain{% endif %} yang sedang "
        "ditindaklanjuti; pantau perkembangannya dengan kode tersebut"
        "{% else %}bukan merupakan pengaduan pelayanan. Untuk permohonan atau pertanyaan "
        "layanan, silakan datang ke loket MPP{% endif %}.",
        "en": "Complaint {{ complaint_code }} will not be taken further: "
        "{% if reason == 'duplicate' %}it duplicates "
        "{% if duplicate_of_code %}complaint {{ duplicate_of_code }}{% else %}another "
        "complaint{% endif %}, which is being followed up; follow its progress with that code"
        "{% else %}it is not a complaint about the service. For an application or a question "
        "about a service, please come to the MPP counter{% endif %}.",
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

# E-mail subject lines per event type and language.
SUBJECTS: dict[str, dict[str, str]] = {
    "mpp.application.submitted.v1": {
        "id": "Permohonan {{ tracking_code }} diterima",
        "en": "Application {{ tracking_code }} received",
    },
    "mpp.application.incomplete.v1": {
        "id": "Permohonan {{ tracking_code }} belum lengkap",
        "en": "Application {{ tracking_code }} is not complete",
    },
    "mpp.application.completed.v1": {
        "id": "Permohonan {{ tracking_code }} lengkap dan diproses",
        "en": "Application {{ tracking_code }} complete and in progress",
    },
    "mpp.application.returned.v1": {
        "id": "Permohonan {{ tracking_code }} perlu diperbaiki",
        "en": "Application {{ tracking_code }} needs corrections",
    },
    "mpp.application.resubmitted.v1": {
        "id": "Perbaikan permohonan {{ tracking_code }} diterima",
        "en": "Corrections to application {{ tracking_code }} received",
    },
    "mpp.application.verified.v1": {
        "id": "Permohonan {{ tracking_code }} sudah diverifikasi",
        "en": "Application {{ tracking_code }} verified",
    },
    "mpp.application.rejected.v1": {
        "id": "Permohonan {{ tracking_code }} tidak dapat diproses",
        "en": "Application {{ tracking_code }} cannot be processed",
    },
    "mpp.document.ready_for_pickup.v1": {
        "id": "Dokumen {{ tracking_code }} siap diambil",
        "en": "Document {{ tracking_code }} is ready for pickup",
    },
    "mpp.document.pickup_reminder.v1": {
        "id": "Pengingat: dokumen {{ tracking_code }} menunggu diambil",
        "en": "Reminder: document {{ tracking_code }} is waiting for you",
    },
    "mpp.document.uncollected.v1": {
        "id": "Dokumen {{ tracking_code }} kini disimpan di Disdukcapil",
        "en": "Document {{ tracking_code }} is now kept at Disdukcapil",
    },
    ESCALATION: {
        "id": "Eskalasi pengaduan {{ complaint_code }}: tenggat {{ step }} terlewati",
        "en": "Escalation: complaint {{ complaint_code }} missed its {{ step }} deadline",
    },
    "mpp.document.on_hold.v1": {
        "id": "Proses dokumen {{ tracking_code }} tertunda",
        "en": "Document {{ tracking_code }} is on hold",
    },
    "mpp.document.cancelled.v1": {
        "id": "Dokumen {{ tracking_code }} dibatalkan",
        "en": "Document {{ tracking_code }} cancelled",
    },
    "mpp.sla.breached.v1": {
        "id": "Dokumen {{ tracking_code }} terlambat selesai",
        "en": "Document {{ tracking_code }} is late",
    },
    "mpp.document.picked_up.v1": {
        "id": "Dokumen {{ tracking_code }} telah diserahkan",
        "en": "Document {{ tracking_code }} handed over",
    },
    "mpp.complaint.filed.v1": {
        "id": "Pengaduan {{ complaint_code }} diterima",
        "en": "Complaint {{ complaint_code }} received",
    },
    "mpp.complaint.rejected.v1": {
        "id": "Pengaduan {{ complaint_code }} tidak diproses",
        "en": "Complaint {{ complaint_code }} not taken further",
    },
    "mpp.complaint.responded.v1": {
        "id": "Pengaduan {{ complaint_code }} telah ditanggapi",
        "en": "Complaint {{ complaint_code }} answered",
    },
    "mpp.complaint.closed.v1": {
        "id": "Pengaduan {{ complaint_code }} ditutup",
        "en": "Complaint {{ complaint_code }} closed",
    },
}

_compiled = {
    (event_type, language): _env.from_string(text)
    for event_type, by_language in TEMPLATES.items()
    for language, text in by_language.items()
}
_compiled_subjects = {
    (event_type, language): _env.from_string(text)
    for event_type, by_language in SUBJECTS.items()
    for language, text in by_language.items()
}


# --- what a template may use --------------------------------------------------


def template_event_types() -> list[str]:
    """Event types with templates: every citizen-facing type, plus the escalation."""
    found = {t for t, model in registered_types().items() if model.citizen_facing}
    return sorted(found | {ESCALATION})


def is_personal(name: str) -> bool:
    return name in PERSONAL_FIELDS or name.endswith(("_masked", "_sealed")) or "nik" in name


def allowed_variables(event_type: str) -> list[str]:
    """The variables a template of `event_type` may use: its event's fields
    (minus personal data) and `service`, the service's name."""
    fields = registered_types()[event_type].model_fields
    return sorted({name for name in fields if not is_personal(name)} | {"service"})


def variables_for(data: EventData, language: str) -> dict[str, Any]:
    """The render variables of an event: its data (no personal fields) and
    the service's name in `language`."""
    variables = {k: v for k, v in data.model_dump(mode="json").items() if not is_personal(k)}
    variables["service"] = service_label(variables, language)
    return variables


def service_label(variables: dict[str, Any], language: str) -> str:
    """The service as the event names it (the catalog's name when the event
    was made); the fixed list only covers events that carry no name."""
    named = variables.get(f"service_name_{language}") or variables.get("service_name_id")
    return str(named) if named else service_name(variables.get("service_code") or "", language)


def service_name(code: str, language: str) -> str:
    names = SERVICE_NAMES.get(code, (code, code))
    return names[1] if language == "en" else names[0]


# --- rendering ----------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str | None  # e-mail only
    body: str


@dataclass(frozen=True)
class TemplateText:
    subject: str | None
    body: str


def effective_language(language: str) -> str:
    return language if language in LANGUAGES else "id"


def default_text(event_type: str, channel: str, language: str) -> TemplateText:
    """The shipped template (KeyError for an event type without one)."""
    language = effective_language(language)
    body = TEMPLATES[event_type][language]
    subject = SUBJECTS[event_type][language] if channel == "email" else None
    return TemplateText(subject, body)


def render(event_type: str, language: str, variables: dict[str, Any]) -> str:
    """The shipped body of `event_type` (KeyError for an unknown type)."""
    template = _compiled.get((event_type, language)) or _compiled[(event_type, "id")]
    return template.render(**variables)


def render_default(
    event_type: str, channel: str, language: str, variables: dict[str, Any]
) -> Rendered:
    language = effective_language(language)
    body = render(event_type, language, variables)
    if channel != "email":
        return Rendered(None, body)
    return Rendered(_compiled_subjects[(event_type, language)].render(**variables).strip(), body)


SELECT_TEMPLATE = """
SELECT event_type, channel, language, subject, body, version, updated_by, updated_at
FROM message_templates WHERE event_type = $1 AND channel = $2 AND language = $3
"""
SELECT_TEMPLATES = """
SELECT event_type, channel, language, subject, body, version, updated_by, updated_at
FROM message_templates ORDER BY event_type, channel, language
"""

_CACHE_SIZE = 512
_cache: OrderedDict[tuple[str, str, str, int, str], tuple[str, Template]] = OrderedDict()


def _stored_template(key: tuple[str, str, str, int, str], source: str) -> Template:
    """Compiled once per (event type, channel, language, version, part). The
    source is compared too: a template deleted and saved again restarts at
    version 1 with another text."""
    hit = _cache.get(key)
    if hit is not None and hit[0] == source:
        _cache.move_to_end(key)
        return hit[1]
    template = _env.from_string(source)
    _cache[key] = (source, template)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return template


def render_stored(row: Any, variables: dict[str, Any]) -> Rendered:
    """Render a `message_templates` row (a record or a mapping)."""
    key = (row["event_type"], row["channel"], row["language"], row["version"])
    body = _stored_template((*key, "body"), row["body"]).render(**variables)
    if row["channel"] != "email":
        return Rendered(None, body)
    subject = _stored_template((*key, "subject"), row["subject"] or "").render(**variables)
    return Rendered(subject.strip(), body)


async def render_message(
    conn: asyncpg.Connection,
    event_type: str,
    channel: str,
    language: str,
    variables: dict[str, Any],
) -> Rendered:
    """The message for one event on one channel in one language: the stored
    template if officers changed it, else the shipped default; a language
    without templates reads Indonesian. KeyError for an event type or channel
    without templates; UndefinedError when `variables` lack what the default
    needs."""
    if event_type not in TEMPLATES or channel not in CHANNELS:
        raise KeyError(f"no template for {event_type} on {channel}")
    language = effective_language(language)
    row = await conn.fetchrow(SELECT_TEMPLATE, event_type, channel, language)
    if row is not None:
        try:
            return render_stored(row, variables)
        except Exception as exc:
            # Checked at save time against the example; an event that still
            # breaks it gets the shipped text rather than no message at all.
            log.warning(
                "template %s/%s/%s v%s failed (%s); sending the default",
                event_type,
                channel,
                language,
                row["version"],
                type(exc).__name__,
            )
    return render_default(event_type, channel, language, variables)


# --- the save-time check ------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why a template cannot be saved, for the field named, in both languages."""

    field: str
    type: str
    message_id: str
    message_en: str
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)


class TemplateRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message_en}" for p in problems))
        self.problems = problems


def check_target(event_type: str, channel: str, language: str) -> None:
    """TemplateRefused unless (event type, channel, language) has templates."""
    problems = []
    if event_type not in TEMPLATES:
        known = ", ".join(template_event_types())
        problems.append(
            Problem(
                "event_type",
                "unknown_event_type",
                f"{event_type} tidak punya templat pesan; yang ada: {known}",
                f"{event_type} has no message templates; these do: {known}",
            )
        )
    if channel not in CHANNELS:
        problems.append(
            Problem(
                "channel",
                "literal_error",
                "harus salah satu dari: " + ", ".join(CHANNELS),
                "must be one of: " + ", ".join(CHANNELS),
            )
        )
    if language not in LANGUAGES:
        problems.append(
            Problem(
                "language",
                "literal_error",
                "harus salah satu dari: " + ", ".join(LANGUAGES),
                "must be one of: " + ", ".join(LANGUAGES),
            )
        )
    if problems:
        raise TemplateRefused(problems)


def check(
    event_type: str,
    channel: str,
    language: str,
    subject: str | None,
    body: str,
    data: EventData | None = None,
) -> list[str]:
    """Refuse (TemplateRefused) a template that could fail or leak at send time;
    return the variables it uses. It is rendered against `data`, else the
    event's example, and against the example without its optional fields."""
    check_target(event_type, channel, language)
    problems = _check_shape(channel, subject, body)
    if problems:
        raise TemplateRefused(problems)
    parts = {"body": body} if channel != "email" else {"subject": subject or "", "body": body}
    used: set[str] = set()
    for part, source in parts.items():
        problem, names = _check_source(event_type, part, source)
        if problem is not None:
            raise TemplateRefused([problem])
        used |= names
    samples = [data] if data is not None else [examples.example(event_type)]
    samples.append(_sparse_example(event_type))
    for sample, name in zip(samples, ("example", "sparse"), strict=True):
        variables = variables_for(sample, language)
        for part, source in parts.items():
            problem = _try_render(part, source, variables, sparse=name == "sparse")
            if problem is not None:
                raise TemplateRefused([problem])
    return sorted(used)


def _check_shape(channel: str, subject: str | None, body: str) -> list[Problem]:
    problems = []
    if not body.strip():
        problems.append(Problem("body", "empty", "tidak boleh kosong", "must not be empty"))
    elif len(body) > BODY_LIMITS[channel]:
        limit = BODY_LIMITS[channel]
        problems.append(
            Problem(
                "body",
                "too_long",
                f"terlalu panjang untuk {channel}: {len(body)} karakter, maksimal {limit}",
                f"is too long for {channel}: {len(body)} characters, at most {limit}",
            )
        )
    if channel != "email":
        if subject and subject.strip():
            problems.append(
                Problem(
                    "subject",
                    "subject_not_allowed",
                    f"hanya e-mail yang punya subjek; {channel} tidak",
                    f"only e-mail has a subject line; {channel} does not",
                )
            )
    elif not subject or not subject.strip():
        problems.append(
            Problem("subject", "missing", "wajib diisi untuk e-mail", "is required for e-mail")
        )
    elif len(subject) > SUBJECT_LIMIT:
        problems.append(
            Problem(
                "subject",
                "too_long",
                f"terlalu panjang: {len(subject)} karakter, maksimal {SUBJECT_LIMIT}",
                f"is too long: {len(subject)} characters, at most {SUBJECT_LIMIT}",
            )
        )
    elif "\n" in subject or "\r" in subject:
        problems.append(
            Problem("subject", "multiline", "harus satu baris", "must be a single line")
        )
    return problems


def _check_source(event_type: str, part: str, source: str) -> tuple[Problem | None, set[str]]:
    try:
        ast = _env.parse(source)
    except TemplateSyntaxError as exc:
        return (
            Problem(
                part,
                "template_syntax",
                f"penulisan templat salah di baris {exc.lineno}: {exc.message}",
                f"template syntax error on line {exc.lineno}: {exc.message}",
                {"line": exc.lineno},
            ),
            set(),
        )
    if any(ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))):
        return (
            Problem(
                part,
                "template_not_allowed",
                "extends, include dan import tidak dapat dipakai; tulis seluruh pesan di sini",
                "extends, include and import cannot be used; write the whole message here",
            ),
            set(),
        )
    unknown_filters = sorted(
        {f.name for f in ast.find_all(nodes.Filter) if f.name not in _env.filters}
        | {t.name for t in ast.find_all(nodes.Test) if t.name not in _env.tests}
    )
    if unknown_filters:
        names, ours = ", ".join(unknown_filters), ", ".join(MPP_FILTERS)
        return (
            Problem(
                part,
                "unknown_filter",
                f"filter tidak dikenal: {names}. Filter MPP: {ours} (serta filter bawaan Jinja2)",
                f"unknown filter: {names}. MPP filters: {ours} (and Jinja2's built-in ones)",
                {"unknown": unknown_filters, "filters": list(MPP_FILTERS)},
            ),
            set(),
        )
    used = meta.find_undeclared_variables(ast) - set(_env.globals)
    personal = sorted(name for name in used if is_personal(name))
    if personal:
        names = ", ".join(personal)
        return (
            Problem(
                part,
                "personal_data",
                f"tidak boleh memuat data pribadi ({names}): pesan lewat SMS, WhatsApp dan "
                "e-mail dapat dibaca orang lain, jadi NIK, nama dan kontak tidak pernah "
                "dicantumkan, meski disamarkan",
                f"must not contain personal data ({names}): SMS, WhatsApp and e-mail can be "
                "read by others, so a message never carries a NIK, a name or a contact, "
                "not even masked",
                {"personal": personal},
            ),
            used,
        )
    allowed = allowed_variables(event_type)
    unknown = sorted(used - set(allowed))
    if unknown:
        names, listing = ", ".join(unknown), ", ".join(allowed)
        return (
            Problem(
                part,
                "unknown_variable",
                f"variabel tidak dikenal untuk {event_type}: {names}. Yang tersedia: {listing}",
                f"unknown variable for {event_type}: {names}. Available: {listing}",
                {"unknown": unknown, "allowed": allowed},
            ),
            used,
        )
    return None, used


def _try_render(
    part: str, source: str, variables: dict[str, Any], *, sparse: bool
) -> Problem | None:
    sample_id = "contoh peristiwa tanpa kolom opsional" if sparse else "contoh peristiwa"
    sample_en = "the example event without its optional fields" if sparse else "the example event"
    try:
        text = _env.from_string(source).render(**variables)
    except Exception as exc:  # the officer's template, run on the event's data
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return Problem(
            part,
            "render_failed",
            f"gagal ditampilkan dengan {sample_id}: {reason}",
            f"cannot be rendered with {sample_en}: {reason}",
        )
    if not text.strip():
        return Problem(
            part,
            "renders_empty",
            f"menghasilkan pesan kosong dengan {sample_id}",
            f"renders an empty message with {sample_en}",
        )
    return None


def _sparse_example(event_type: str) -> EventData:
    """The example with only its required fields: what an older producer sends."""
    model = registered_types()[event_type]
    full = examples.EXAMPLES[event_type]
    required = {k: v for k, v in full.items() if model.model_fields[k].is_required()}
    return model(**required)


# --- preview ------------------------------------------------------------------

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def sms_segments(text: str) -> int:
    """How many SMS a text takes: GSM-7 (160 in one, 153 per part; the
    extension characters take two) or, with any other character, UCS-2 (70 in
    one, 67 per part; a character beyond the BMP takes two). A character is
    never split across parts."""
    if not text:
        return 0
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        units = [2 if c in _GSM7_EXTENSION else 1 for c in text]
        single, part = 160, 153
    else:
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part = 70, 67
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments


@dataclass(frozen=True)
class Preview:
    subject: str | None
    body: str
    characters: int
    sms_segments: int
    variables_used: list[str]


def preview(
    event_type: str,
    channel: str,
    language: str,
    text: TemplateText,
    data: EventData | None = None,
) -> Preview:
    """Check `text` as if it were saved, then render it with `data` (else the
    event's example)."""
    used = check(event_type, channel, language, text.subject, text.body, data)
    variables = variables_for(data or examples.example(event_type), language)
    body = _env.from_string(text.body).render(**variables)
    subject = None
    if channel == "email":
        subject = _env.from_string(text.subject or "").render(**variables).strip()
    return Preview(subject, body, len(body), sms_segments(body), used)
