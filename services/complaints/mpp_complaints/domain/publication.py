"""Publishing an answered aspiration or request for information as a public
question and answer: the texts must hold no personal data. Pure.

A text is refused when it holds a 16-digit number (a NIK or a KK number,
also written in groups), a phone number (Indonesian mobile or landline,
+62 / 62 / 0, with spaces, dots or dashes), an e-mail address, or the
asker's own name (the whole name, or any part of it of three letters or
more, as a word). The refusal says what to remove, never the text found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# 16 digits, possibly in groups separated by a space, dot or dash.
_IDENTITY_NUMBER = re.compile(r"(?<!\d)(?:\d[ .\-]?){15}\d(?!\d)")
# +62 / 62 / 0 followed by 7-12 more digits, possibly grouped.
_PHONE = re.compile(r"(?<![\d+])(?:\+62|62|0)[ .\-]?\(?\d{2,4}\)?(?:[ .\-]?\d){5,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
MIN_NAME_PART = 3

# What to remove, per finding (Bahasa Indonesia, English).
FINDINGS: dict[str, tuple[str, str]] = {
    "identity_number": ("nomor NIK/KK (16 angka)", "an identity (NIK/KK) number (16 digits)"),
    "phone": ("nomor telepon", "a phone number"),
    "email": ("alamat e-mail", "an e-mail address"),
    "name": ("nama penanya", "the asker's name"),
}


def _name_parts(name: str | None) -> list[str]:
    if not name:
        return []
    parts = [p for p in re.split(r"\W+", name) if len(p) >= MIN_NAME_PART]
    return [name.strip(), *parts]


def personal_data_in(text: str, reporter_name: str | None = None) -> list[str]:
    """The kinds of personal data found in `text` (keys of FINDINGS), in
    FINDINGS' order; empty when there is none."""
    found: list[str] = []
    if _IDENTITY_NUMBER.search(text):
        found.append("identity_number")
    without_ids = _IDENTITY_NUMBER.sub(" ", text)
    if _PHONE.search(_EMAIL.sub(" ", without_ids)):
        found.append("phone")
    if _EMAIL.search(text):
        found.append("email")
    lowered = text.casefold()
    for part in _name_parts(reporter_name):
        if re.search(rf"(?<!\w){re.escape(part.casefold())}(?!\w)", lowered):
            found.append("name")
            break
    return found


def what_to_remove(found: Iterable[str]) -> tuple[str, str]:
    """The findings as words (Bahasa Indonesia, English): "hapus ..." / "remove ..."."""
    names = [FINDINGS[f] for f in found]
    return (
        "mengandung data pribadi; hapus " + ", ".join(n[0] for n in names),
        "holds personal data; remove " + ", ".join(n[1] for n in names),
    )
