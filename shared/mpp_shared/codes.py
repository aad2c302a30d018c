"""Short public codes (tracking codes, complaint codes): no look-alike
characters, with a Luhn mod 32 check character so a mistyped character is
caught at once."""

from __future__ import annotations

import secrets

from stdnum import luhn

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, no 1/I


def new_code(length: int = 10, prefix: str = "") -> str:
    """`length` characters after `prefix`, the last one the check character."""
    body = prefix + "".join(secrets.choice(ALPHABET) for _ in range(length - 1))
    return body + luhn.calc_check_digit(body, alphabet=ALPHABET)


def normalise(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def is_valid(code: str, length: int = 10, prefix: str = "") -> bool:
    code = normalise(code)
    if len(code) != len(prefix) + length or not code.startswith(prefix):
        return False
    if any(c not in ALPHABET for c in code):
        return False
    return bool(luhn.is_valid(code, alphabet=ALPHABET))
