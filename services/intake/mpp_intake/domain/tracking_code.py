"""Tracking codes: short, free of look-alike characters, with a check character.

Ten characters from a 32-letter alphabet without 0/O and 1/I; the last is a
Luhn mod 32 check character, so a mistyped character is caught at once.
"""

from __future__ import annotations

import secrets

from stdnum import luhn

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
BODY_LENGTH = 9


def new_tracking_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + luhn.calc_check_digit(body, alphabet=ALPHABET)


def normalise(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def is_valid(code: str) -> bool:
    code = normalise(code)
    if len(code) != BODY_LENGTH + 1 or any(c not in ALPHABET for c in code):
        return False
    return luhn.is_valid(code, alphabet=ALPHABET)
