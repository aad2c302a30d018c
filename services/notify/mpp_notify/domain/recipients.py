"""Choosing the channel and address for a citizen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpp_shared.pii import mask_email, mask_phone


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str
    language: str

    @property
    def masked(self) -> str:
        return mask_email(self.address) if self.channel == "email" else mask_phone(self.address)


def choose(contact: dict[str, Any]) -> Recipient | None:
    """The preferred channel when its contact is known, else SMS, else e-mail."""
    language = contact.get("language", "id")
    preferred = contact.get("preferred_channel")
    by_channel: dict[str, str | None] = {
        "sms": contact.get("phone"),
        "whatsapp": contact.get("phone"),
        "email": contact.get("email"),
    }
    for channel in (preferred, "sms", "email"):
        address = by_channel.get(channel) if channel else None
        if channel and address:
            return Recipient(channel, address, language)
    return None
