"""What every channel client offers the dispatcher.

A client sends one message and either returns what the provider said
(`SendResult`) or raises `DeliveryError`: `transient` (worth retrying: the
provider is down, slow, overloaded, or answered 5xx / 429 / SMTP 4xx) or not
(the provider refused this message: bad number, unknown mailbox, 4xx), in
which case retrying would only repeat the refusal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    id: uuid.UUID  # the notification id: the client reference / Message-ID at the provider
    channel: str  # sms | whatsapp | email
    address: str  # E.164 phone number or e-mail address
    language: str  # id | en
    subject: str | None  # e-mail subject line (other channels ignore it)
    body: str


@dataclass(frozen=True)
class SendResult:
    provider: str
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


class Channel(Protocol):
    name: str  # sms | whatsapp | email
    provider: str  # sms_gateway | whatsapp_cloud | smtp | log

    async def send(self, message: OutgoingMessage) -> SendResult: ...

    async def aclose(self) -> None: ...
