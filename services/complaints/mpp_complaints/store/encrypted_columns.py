"""Where complaints keeps personal data under keys (see mpp_shared.keyrotation):
the reporter's contact, encrypted; no blind index. Moved to the active key by
`python -m mpp_complaints.rotate_keys`."""

from __future__ import annotations

from mpp_shared.keyrotation import Encrypted, EncryptedTable, Registry

REGISTRY = Registry(
    service="complaints",
    tables=(
        EncryptedTable(
            "complaints",
            key=(("id", "uuid"),),
            encrypted=(Encrypted("reporter_enc", "reporter"),),
        ),
    ),
)
