"""Contact details as every service accepts them: phone numbers normalised to
E.164 (`phonenumbers`), e-mail addresses checked. Each refusal has a code and
a message in Bahasa Indonesia and English."""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
from pydantic_core import PydanticCustomError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

MESSAGES: dict[str, tuple[str, str]] = {
    "phone_unreadable": ("nomor telepon tidak dapat dibaca", "the phone number cannot be read"),
    "phone_invalid": (
        "nomor telepon tidak sah (contoh: 0812 3456 7890)",
        "the phone number is not valid (example: 0812 3456 7890)",
    ),
    "email_invalid": ("alamat e-mail tidak sah", "the e-mail address is not valid"),
}


class InvalidValue(ValueError):
    """A value an officer must correct; `code` keys its message."""

    def __init__(self, code: str, messages: dict[str, tuple[str, str]] = MESSAGES) -> None:
        super().__init__(messages[code][0])
        self.code = code


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


def checked(rule: Callable[[str], str], value: str) -> str:
    """Run a rule inside a pydantic validator: the refusal keeps its code."""
    try:
        return rule(value)
    except InvalidValue as exc:
        raise PydanticCustomError(exc.code, str(exc)) from exc
