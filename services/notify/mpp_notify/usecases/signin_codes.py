"""Sending a citizen's one-time sign-in code (`mpp.citizen`, from intake's
online application) by SMS or WhatsApp through the normal delivery queue.

The code and the phone arrive sealed for notify. The delivery log keeps the
message with the code redacted (`body`, which GET /v1/notifications shows)
and the real text encrypted (`secret_body_enc`), which the dispatcher sends
and a trigger drops once the message is sent or dead. A code that expired
before notify read it is not sent. Never queued behind quiet hours.

By WhatsApp outside the 24-hour window the code goes as an approved
authentication template (`signin_template`: its one body parameter and its
copy-code button carry the code). The log keeps that template with the code
redacted; the dispatcher puts the code in from the encrypted text when it
sends (`fill_code`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from mpp_notify.assistant.templates import WhatsAppTemplate
from mpp_notify.domain.recipients import Recipient
from mpp_notify.store import delivery_log, secret_bodies
from mpp_shared.events import CloudEvent
from mpp_shared.events.schemas import SignInCodeRequestedV1
from mpp_shared.pii import FieldCipher, open_sealed
from mpp_shared.telemetry import current_trace_id

REDACTED = "******"
EVENT_TYPE = SignInCodeRequestedV1.event_type
# The approved authentication template, unless WHATSAPP_TEMPLATES names another.
DEFAULT_SIGNIN_TEMPLATE = WhatsAppTemplate(name="mpp_kode_masuk", parameters=["code"])
_CODE = re.compile(r"\b\d{6}\b")


def signin_template(configured: dict[str, WhatsAppTemplate], language: str) -> dict[str, Any]:
    """The authentication template as the delivery log keeps it (code redacted)."""
    template = configured.get(EVENT_TYPE) or DEFAULT_SIGNIN_TEMPLATE
    code = template.languages.get(language) or template.languages.get("id") or language
    return {
        "name": template.name,
        "language": code,
        "parameters": [REDACTED for _ in template.parameters] or [REDACTED],
        "authentication": True,
    }


def fill_code(template: dict[str, Any], text: str) -> dict[str, Any]:
    """The template to send: the redacted parameters replaced by the code read
    from the message's real text."""
    if not template.get("authentication") or (found := _CODE.search(text)) is None:
        return template
    values = [found.group() if v == REDACTED else v for v in template.get("parameters", [])]
    return {**template, "parameters": values, "code": found.group()}


def code_message(code: str, minutes: int, language: str) -> str:
    """The text of the code, in the resident's language."""
    if language == "en":
        return (
            f"Your MPP sign-in code: {code}. Valid for {minutes} minutes. "
            "Do not give this code to anyone, including officers."
        )
    return (
        f"Kode masuk MPP Anda: {code}. Berlaku {minutes} menit. "
        "Jangan berikan kode ini kepada siapa pun, termasuk petugas."
    )


def minutes_valid(event: CloudEvent, expires_at: datetime) -> int:
    return max(1, round((expires_at - event.time).total_seconds() / 60))


async def queue_signin_code(
    conn: asyncpg.Connection,
    event: CloudEvent,
    data: SignInCodeRequestedV1,
    *,
    cipher: FieldCipher,
    seal_private_key: Mapping[int, str],
    provider: str,
    now: datetime,
    templates: dict[str, WhatsAppTemplate] | None = None,
) -> uuid.UUID | None:
    """Queue the code's message (once per event); its id, or None when the
    code already expired or the event was already handled."""
    if data.expires_at <= now:
        return None
    phone = str(open_sealed(data.contact_sealed, seal_private_key)["phone"])
    code = str(open_sealed(data.code_sealed, seal_private_key)["code"])
    language = "en" if data.language == "en" else "id"
    minutes = minutes_valid(event, data.expires_at)
    recipient = Recipient(data.channel, phone, language)
    message = delivery_log.NewMessage(
        id=uuid.uuid4(),
        source_event_id=event.id,
        source_event_type=event.type,
        channel=data.channel,
        provider=provider,
        recipient_index=cipher.blind_index(f"{data.channel}:{phone}", context="recipient"),
        recipient_masked=recipient.masked,
        recipient_enc=cipher.encrypt(phone, context="recipient-address"),
        language=language,
        subject=None,
        body=code_message(REDACTED, minutes, language),
        status="queued",
        urgent=True,
        next_attempt_at=now,
        application_id=None,
        complaint_id=None,
        tracking_code=None,
        trace_id=current_trace_id(),
        template=signin_template(templates or {}, language) if data.channel == "whatsapp" else None,
    )
    if not await delivery_log.insert(conn, message):
        return None
    secret = secret_bodies.seal(cipher, code_message(code, minutes, language))
    await secret_bodies.keep(conn, message.id, secret)
    return message.id
