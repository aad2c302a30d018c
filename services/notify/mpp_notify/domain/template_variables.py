"""What a message template may use: the fields of its event, never those that
identify a person (a NIK, a name, a contact, not even masked: SMS, WhatsApp
and e-mail can be read by others), plus `service`, the service's name in the
message's language."""

from __future__ import annotations

from typing import Any

from mpp_shared.events.envelope import EventData, registered_types

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

# Service names (Indonesian, English) for events that carry no name of their own.
SERVICE_NAMES = {
    "ktp_el": ("KTP-el", "electronic ID card (KTP-el)"),
    "kia": ("Kartu Identitas Anak", "child identity card (KIA)"),
    "kk": ("Kartu Keluarga", "family card"),
    "akta_kelahiran": ("akta kelahiran", "birth certificate"),
    "akta_kematian": ("akta kematian", "death certificate"),
    "pindah_keluar": ("surat pindah keluar", "moving-out letter"),
    "pindah_datang": ("surat pindah datang", "moving-in letter"),
}


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
