"""Rules for the applicant's identity; contact rules come from mpp_shared.contacts.

Each refusal has a code and a message in Bahasa Indonesia and English, so the
officer is told exactly what to correct.
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.id import nik as stdnum_nik

from mpp_shared import contacts
from mpp_shared.contacts import InvalidValue, normalise_phone, validate_email

MESSAGES: dict[str, tuple[str, str]] = {
    **contacts.MESSAGES,
    "nik_format": ("NIK harus 16 angka", "the NIK must be 16 digits"),
    "nik_invalid": (
        "NIK tidak sah: kode wilayah atau tanggal lahir di dalamnya tidak mungkin",
        "the NIK is not valid: its region code or birth date cannot exist",
    ),
}

__all__ = ["MESSAGES", "InvalidValue", "normalise_phone", "validate_email", "validate_nik"]


def validate_nik(value: str) -> str:
    compact = stdnum_nik.compact(value)
    if not compact.isdigit() or len(compact) != 16:
        raise InvalidValue("nik_format", MESSAGES)
    # stdnum reads the day modulo 40; the rule is 1-31, or 41-71 for women.
    day = int(compact[6:8])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise InvalidValue("nik_invalid", MESSAGES)
    try:
        return str(stdnum_nik.validate(compact))
    except ValidationError as exc:
        raise InvalidValue("nik_invalid", MESSAGES) from exc
