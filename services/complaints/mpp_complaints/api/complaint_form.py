"""The complaint form of the public page /complaints/new: its fields (named
as in the JSON of POST /v1/complaints), read into the same `ComplaintCreate`
that route files, and each refusal turned into a message next to its field
in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mpp_complaints.domain.complaints import ComplaintCreate
from mpp_shared import contacts
from mpp_shared.errors import Language, Refusal

FIELDS = (
    "kind",
    "category",
    "description",
    "tracking_code",
    "anonymous",
    "confidential",
    "reporter_name",
    "phone",
    "email",
    "publication_consent",
)
# Typed again into the form when it comes back with errors. The reporter's
# name, phone and e-mail never are: no public page shows a name or a phone.
KEPT = (
    "kind",
    "category",
    "description",
    "tracking_code",
    "anonymous",
    "confidential",
    "publication_consent",
)
CHECKBOXES = ("anonymous", "confidential", "publication_consent")
OPTIONAL = ("tracking_code", "reporter_name", "phone", "email")

MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("wajib diisi", "is required"),
    "string_too_short": (
        "terlalu pendek: paling sedikit {min_length} karakter",
        "is too short: at least {min_length} characters",
    ),
    "string_too_long": (
        "terlalu panjang: paling banyak {max_length} karakter",
        "is too long: at most {max_length} characters",
    ),
    "string_type": ("harus berupa teks", "must be text"),
    "literal_error": ("pilih salah satu pilihan", "choose one of the options"),
    **contacts.MESSAGES,
}
INVALID = ("isian ini tidak dapat diterima", "this cannot be accepted")


@dataclass(frozen=True)
class KindChoice:
    """A kind of report as the form offers it, in words a citizen understands."""

    code: str
    name_id: str
    name_en: str
    about_id: str
    about_en: str


KIND_CHOICES = (
    KindChoice(
        "pengaduan",
        "Pengaduan",
        "Complaint",
        "Keluhan atas pelayanan yang Anda terima; ditindaklanjuti OPD sesuai tenggat SP4N-LAPOR!.",
        "Something went wrong with a service you received; followed up by the agency "
        "within the SP4N-LAPOR! deadlines.",
    ),
    KindChoice(
        "aspirasi",
        "Aspirasi",
        "Suggestion",
        "Saran atau usulan untuk perbaikan layanan; diteruskan ke OPD dan dijawab.",
        "A suggestion or proposal to improve a service; passed to the agency and answered.",
    ),
    KindChoice(
        "permintaan_informasi",
        "Permintaan informasi",
        "Request for information",
        "Pertanyaan atau permintaan informasi publik; dijawab paling lama 10 hari kerja "
        "(UU 14/2008).",
        "A question or a request for public information; answered within 10 working days "
        "(Law 14/2008).",
    ),
)


@dataclass
class FormReading:
    """The complaint read from the form, or the message of each field in error."""

    complaint: ComplaintCreate | None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "on", "yes", "ya")


def _message(type_: str, context: Mapping[str, Any] | None, language: Language) -> str:
    pair = MESSAGES.get(type_, INVALID)
    template = pair[1] if language == "en" else pair[0]
    try:
        return template.format(**{k: str(v) for k, v in (context or {}).items()})
    except (KeyError, IndexError):
        return INVALID[1] if language == "en" else INVALID[0]


def kept_values(form: Mapping[str, str]) -> dict[str, Any]:
    """What the form shows again: the kept fields as typed, boxes as booleans."""
    values: dict[str, Any] = {
        name: (form.get(name) or "") for name in KEPT if name not in CHECKBOXES
    }
    values.update({name: _truthy(form.get(name)) for name in CHECKBOXES})
    return values


def read_form(form: Mapping[str, str], language: Language) -> FormReading:
    """The form's fields as a complaint filed on the web in the reader's
    language, checked exactly as POST /v1/complaints checks its JSON."""
    data: dict[str, Any] = {
        "kind": (form.get("kind") or "").strip() or "pengaduan",
        "category": (form.get("category") or "").strip(),
        "description": form.get("description") or "",
        "channel": "web",
        "anonymous": _truthy(form.get("anonymous")),
        "confidential": _truthy(form.get("confidential")),
        "publication_consent": _truthy(form.get("publication_consent")),
        "language": language,
    }
    for name in OPTIONAL:
        value = (form.get(name) or "").strip()
        if value:
            data[name] = value
    values = kept_values(form)
    errors: dict[str, str] = {}
    if not data["category"]:
        errors["category"] = _message("missing", None, language)
        del data["category"]
    try:
        complaint = ComplaintCreate(**data)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "description"
            errors.setdefault(name, _message(error["type"], error.get("ctx"), language))
        return FormReading(None, errors, values)
    if errors:
        return FormReading(None, errors, values)
    return FormReading(complaint, {}, values)


def refusal_errors(refusal: Refusal, language: Language) -> dict[str, str]:
    """A use case's refusal (e.g. an unknown category) as messages by field."""
    found: dict[str, str] = {}
    for error in refusal.extra.get("errors", []):
        text = error.get("message_en") if language == "en" else error.get("message_id")
        found.setdefault(str(error.get("field", "description")), str(text or refusal.message_id))
    if not found:
        found["description"] = refusal.message_en if language == "en" else refusal.message_id
    return found
