"""Where notify keeps personal data under keys: every encrypted column (with
its AEAD context) and every blind index (with its index context and the clear
value it is computed from), in one place. `python -m mpp_notify.rotate_keys`
moves them to the active keys (mpp_shared.keyrotation)."""

from __future__ import annotations

from mpp_notify.domain.subscriptions import secret_context
from mpp_notify.store.secret_bodies import CONTEXT as SECRET_BODY_CONTEXT
from mpp_shared.keyrotation import (
    BlindIndex,
    Clear,
    Encrypted,
    EncryptedTable,
    NotRotated,
    Registry,
    Row,
)


def _logged_recipient(clear: Clear, row: Row) -> str | None:
    """The delivery log's recipient index is of "<channel>:<address>"."""
    address = clear["recipient_enc"]
    return None if address is None else f"{row['channel']}:{address}"


def _whatsapp_sender(clear: Clear, row: Row) -> str | None:
    """A conversation's index is the sender's WhatsApp recipient index."""
    sender = clear["sender_enc"]
    return None if sender is None else f"whatsapp:{sender}"


REGISTRY = Registry(
    service="notify",
    tables=(
        EncryptedTable(
            "recipients",
            key=(("subject_type", "text"), ("subject_id", "uuid")),
            encrypted=(Encrypted("contact_enc", "contact"),),
        ),
        EncryptedTable(
            "delivery_log",
            key=(("id", "uuid"),),
            encrypted=(
                Encrypted("recipient_enc", "recipient-address"),
                Encrypted("secret_body_enc", SECRET_BODY_CONTEXT),
            ),
            indexes=(
                BlindIndex(
                    "recipient_index",
                    context="recipient",
                    requires="recipient_enc",
                    source=_logged_recipient,
                ),
            ),
            reads=("channel",),
        ),
        EncryptedTable(
            "wa_conversations",
            key=(("sender_index", "bytea"),),
            encrypted=(Encrypted("sender_enc", "whatsapp-sender"),),
            indexes=(
                BlindIndex(
                    "sender_index",
                    context="recipient",
                    requires="sender_enc",
                    source=_whatsapp_sender,
                ),
            ),
        ),
        EncryptedTable(
            "subscriptions",
            key=(("id", "uuid"),),
            encrypted=(Encrypted("secret_enc", lambda row: secret_context(row["id"])),),
        ),
    ),
    not_rotated=(
        NotRotated(
            "wa_inbound_messages",
            "sender_index",
            "per-message rate counting with no clear value; counted under every "
            "configured index key, it matters for a day",
        ),
        NotRotated(
            "delivery_log",
            "recipient_index (rows without recipient_enc)",
            "rows logged before the address was kept encrypted have no clear value",
        ),
    ),
)
