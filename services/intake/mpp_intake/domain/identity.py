"""Rules for the applicant's identity and contacts.

Each refusal has a code and a message in Bahasa Indonesia and English, so the
officer is told exactly what to correct.
"""

from __future__ import annotations

import re

import phonenumbers
from stdnum.exceptions import ValidationError
from stdnum.id import nik as stdnum_nik

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

MESSAGES: dict[str, tuple[str, str]] = {
    "nik_format": ("NIK harus 16 angka", "the NIK must be 16 digits"),
    "nik_invalid": (
        "NIK tidak sah: kode wilayah atau tanggal lahir di dalamnya tidak mungkin",
        "the NIK is not valid: its region code or birth date cannot exist",
    ),
    "phone_unreadable": ("nomor telepon tidak dapat dibaca", "the phone number cannot be read"),
    "phone_invalid": (
        "nomor telepon tidak sah (contoh: 0812 3456 7890)",
        "the phone number is not valid (example: 0812 3456 7890)",
    ),
    "email_invalid": ("alamat e-mail tidak sah", "the e-mail address is not valid"),
}


class InvalidValue(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code][0])
        self.code = code


def validate_nik(value: str) -> str:
    compact = stdnum_nik.compact(value)
    if not compact.isdigit() or len(compact) != 16:
        raise InvalidValue("nik_format")
    # stdnum reads the day modulo 40; the rule is 1-31, or 41-71 for women.
    day = int(compact[6:8])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise InvalidValue("nik_invalid")
    try:
        return str(stdnum_nik.validate(compact))
    except ValidationError as exc:
        raise InvalidValue("nik_invalid") from exc


def normalise_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "ID")
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue("phone_unreadable") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidValue("email_invalid")
    return value.lower()
