"""Where complaints keeps personal data under keys (see mpp_shared.keyrotation):
the reporter's contact, encrypted, and the blind indexes of its phone and
e-mail address (found again by a resident's request about their data). Moved
to the active keys by `python -m mpp_complaints.rotate_keys`, which first
fills the indexes of complaints filed before they existed."""

from __future__ import annotations

import json

from mpp_shared.keyrotation import BlindIndex, Clear, Encrypted, EncryptedTable, Registry, Row


def _reporter(clear: Clear, row: Row, field: str) -> str | None:
    stored = clear["reporter_enc"]
    if stored is None:
        return None
    value = json.loads(stored).get(field)
    return str(value) if value else None


def _phone(clear: Clear, row: Row) -> str | None:
    return _reporter(clear, row, "phone")


def _email(clear: Clear, row: Row) -> str | None:
    return _reporter(clear, row, "email")


REGISTRY = Registry(
    service="complaints",
    tables=(
        EncryptedTable(
            "complaints",
            key=(("id", "uuid"),),
            encrypted=(Encrypted("reporter_enc", "reporter"),),
            indexes=(
                BlindIndex(
                    "reporter_phone_index",
                    context="reporter-phone",
                    requires="reporter_enc",
                    source=_phone,
                ),
                BlindIndex(
                    "reporter_email_index",
                    context="reporter-email",
                    requires="reporter_enc",
                    source=_email,
                ),
            ),
        ),
    ),
)
