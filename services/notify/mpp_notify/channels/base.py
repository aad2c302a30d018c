"""What every channel client offers the dispatcher.

A client sends one message and either returns what the provider said
(`SendResult`) or raises `DeliveryError`: `transient` (worth retrying: the
provider is down, slow, overloaded, or answered 5xx / 429 / SMTP 4xx) or not
(the provider refused this message: bad number, unknown mailbox, 4xx), in
which case retrying would only repeat the refusal.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal, Protocol

ChannelName = Literal["sms", "whatsapp", "email"]
Provider = Literal["sms_gateway", "whatsapp_cloud", "smtp", "log"]

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class OutgoingMessage:
    id: uuid.UUID  # the notification id: the client reference / Message-ID at the provider
    channel: ChannelName
    address: str  # E.164 phone number or e-mail address
    language: Literal["id", "en"]
    subject: str | None  # e-mail subject line (other channels ignore it)
    body: str
    # WhatsApp outside the 24-hour window: the approved template to send
    # instead of the text, {"name", "language", "parameters": [str, ...]}.
    template: dict[str, Any] | None = None


@dataclass(frozen=True)
class SendResult:
    provider: Provider
    provider_message_id: str | None
    status_code: int | None = None  # HTTP status or SMTP reply code


class DeliveryError(Exception):
    def __init__(
        self,
        detail: str,
        *,
        transient: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.transient = transient
        self.status_code = status_code
        self.retry_after = retry_after  # seconds the provider asked us to wait, if it said


def require_phone_number(message: OutgoingMessage) -> None:
    """Refuse, for good, a message whose address is not an E.164 phone number."""
    if not E164.match(message.address):
        raise DeliveryError(
            "recipient is not an E.164 phone number (+<country code><number>)",
            transient=False,
        )


class Channel(Protocol):
    name: ChannelName
    provider: Provider

    async def send(self, message: OutgoingMessage) -> SendResult: ...

    async def aclose(self) -> None: ...
