"""Filing a report of any kind (aspirasi, pengaduan, permintaan_informasi),
by the JSON route (with Idempotency-Key), the web form, the channel route or
the Open311 facade: the complaint and its `complaint.filed` event commit
together. The reporter's contact is stored encrypted and travels sealed for
notify alone, never in clear on a shared topic."""

from __future__ import annotations

import json
import uuid

import asyncpg

from mpp_complaints.domain.complaints import (
    CODE_LENGTH,
    CODE_PREFIX,
    SOURCE,
    ComplaintCreate,
)
from mpp_complaints.domain.lifecycle import Status
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import categories, complaints, known_requests
from mpp_complaints.usecases import reporter_contact
from mpp_complaints.usecases.views import ComplaintPublic
from mpp_shared import clock, codes
from mpp_shared.errors import Invalid
from mpp_shared.events import build_event
from mpp_shared.events.schemas import ComplaintFiledV1
from mpp_shared.idempotency import Idempotency, StoredAnswer
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, seal_for_notify

IDEMPOTENCY_SCOPE = "complaints"


class UnknownCategory(Invalid):
    """`category` is not an active row of complaint_categories."""

    @classmethod
    def of(cls, category: str) -> UnknownCategory:
        refusal = Invalid.field(
            "category",
            "unknown_category",
            f"kategori tidak dikenal: {category}",
            f"unknown category: {category}",
        )
        return cls(refusal.code, refusal.message_id, refusal.message_en, **refusal.extra)


async def file_complaint(
    pool: asyncpg.Pool,
    complaint: ComplaintCreate,
    *,
    idempotency_key: str | None,
    settings: ComplaintsSettings,
    cipher: FieldCipher,
) -> ComplaintPublic | StoredAnswer:
    """The filed complaint, or the first answer to a request retried with
    the same Idempotency-Key."""
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, IDEMPOTENCY_SCOPE, idempotency_key)
        if (stored := await once.replay(complaint.model_dump())) is not None:
            return stored
        answer = await file(conn, complaint, settings=settings, cipher=cipher)
        await once.remember(answer)
    return answer


async def file(
    conn: asyncpg.Connection,
    complaint: ComplaintCreate,
    *,
    settings: ComplaintsSettings,
    cipher: FieldCipher,
) -> ComplaintPublic:
    """Store a new complaint and its complaint.filed event, in the caller's
    transaction. UnknownCategory unless the category is active in the
    managed list."""
    if not await categories.is_active(conn, complaint.category):
        raise UnknownCategory.of(complaint.category)
    at = clock.now()
    complaint_id = uuid.uuid4()
    code = codes.new_code(CODE_LENGTH, prefix=CODE_PREFIX)
    tracking_code = codes.normalise(complaint.tracking_code) if complaint.tracking_code else None
    contact = complaint.reporter_contact()
    linked = await known_requests.by_tracking_code(conn, tracking_code) if tracking_code else None
    application_id = linked["application_id"] if linked else None
    phone_index, email_index = reporter_contact.indexes(cipher, contact)
    await complaints.insert(
        conn,
        complaint_id=complaint_id,
        complaint_code=code,
        category=complaint.category,
        description=complaint.description,
        channel=complaint.channel,
        anonymous=complaint.anonymous,
        tracking_code=tracking_code,
        application_id=application_id,
        reporter_enc=cipher.encrypt(json.dumps(contact), context="reporter") if contact else None,
        language=complaint.language,
        created_at=at,
        confidential=complaint.confidential,
        reporter_phone_index=phone_index,
        reporter_email_index=email_index,
        kind=complaint.kind,
        publication_consent=complaint.publication_consent,
    )
    filed = ComplaintFiledV1(
        complaint_id=complaint_id,
        complaint_code=code,
        category=complaint.category,
        kind=complaint.kind,
        channel=complaint.channel,
        anonymous=complaint.anonymous,
        tracking_code=tracking_code,
        application_id=application_id,
        language=complaint.language,
        contact_sealed=_sealed_for_notify(contact, complaint.language, settings, complaint.channel),
        filed_at=at,
    )
    await enqueue(
        conn,
        build_event(filed, source=SOURCE, subject=str(complaint_id)),
        topic=filed.topic,
        key=str(complaint_id),
    )
    return ComplaintPublic(
        id=complaint_id,
        complaint_code=code,
        kind=complaint.kind,
        category=complaint.category,
        channel=complaint.channel,
        status=Status.RECEIVED.value,
        anonymous=complaint.anonymous,
        confidential=complaint.confidential,
        publication_consent=complaint.publication_consent,
        tracking_code=tracking_code,
        linked_request_progress=linked["progress"] if linked else None,
        created_at=at,
    )


def _sealed_for_notify(
    contact: dict[str, str], language: str, settings: ComplaintsSettings, channel: str
) -> str | None:
    """The reporter's contact (and language), readable by notify alone; a
    complaint filed over WhatsApp is answered there."""
    if not contact:
        return None
    extra = (
        {"preferred_channel": "whatsapp"} if channel == "whatsapp" and "phone" in contact else {}
    )
    return seal_for_notify(
        {**contact, "language": language, **extra},
        settings.notify_seal_public_key,
        settings.notify_seal_key_id,
    )
