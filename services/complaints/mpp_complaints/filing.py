"""Filing a complaint: shared by the JSON route and the Open311 facade."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from mpp_complaints.api.schemas import ComplaintCreate, ComplaintPublic
from mpp_complaints.domain.complaints import CODE_LENGTH, CODE_PREFIX, ComplaintStatus
from mpp_shared import codes
from mpp_shared.events import build_event
from mpp_shared.events.schemas import ComplaintFiledV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, seal_for_notify
from mpp_shared.web import ApiError

SOURCE = "/mpp/complaints"


class UnknownCategory(ApiError):
    """422 on `category`: not an active row of complaint_categories."""

    @classmethod
    def of(cls, category: str) -> UnknownCategory:
        error = ApiError.invalid(
            "category",
            "unknown_category",
            f"kategori tidak dikenal: {category}",
            f"unknown category: {category}",
        )
        return cls(error.status_code, error.code, error.message_id, error.message_en, error.extra)


async def active_categories(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT code FROM complaint_categories WHERE active")
    return {r["code"] for r in rows}


async def file(
    conn: asyncpg.Connection, *, settings: Any, cipher: FieldCipher, body: ComplaintCreate
) -> ComplaintPublic:
    """Store a new complaint and its complaint.filed event. Call it inside the
    caller's transaction so that the row and the outbox event commit together.
    Raises UnknownCategory unless the category is active in the managed list."""
    known = await conn.fetchval(
        "SELECT true FROM complaint_categories WHERE code = $1 AND active", body.category
    )
    if not known:
        raise UnknownCategory.of(body.category)
    now = datetime.now(UTC)
    complaint_id = uuid.uuid4()
    code = codes.new_code(CODE_LENGTH, prefix=CODE_PREFIX)
    tracking_code = codes.normalise(body.tracking_code) if body.tracking_code else None
    contact = {
        k: v
        for k, v in {"name": body.reporter_name, "phone": body.phone, "email": body.email}.items()
        if v
    }
    linked = None
    if tracking_code:
        linked = await conn.fetchrow(
            "SELECT application_id, progress FROM known_requests WHERE tracking_code = $1",
            tracking_code,
        )
    await conn.execute(
        "INSERT INTO complaints (id, complaint_code, category, description, channel, anonymous, "
        "status, tracking_code, application_id, reporter_enc, language, created_at, updated_at, "
        "confidential) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)",
        complaint_id,
        code,
        body.category,
        body.description,
        body.channel,
        body.anonymous,
        ComplaintStatus.RECEIVED.value,
        tracking_code,
        linked["application_id"] if linked else None,
        cipher.encrypt(json.dumps(contact), context="reporter") if contact else None,
        body.language,
        now,
        body.confidential,
    )
    data = ComplaintFiledV1(
        complaint_id=complaint_id,
        complaint_code=code,
        category=body.category,
        channel=body.channel,
        anonymous=body.anonymous,
        tracking_code=tracking_code,
        application_id=linked["application_id"] if linked else None,
        language=body.language,
        contact_sealed=(
            seal_for_notify({**contact, "language": body.language}, settings.notify_seal_public_key)
            if contact
            else None
        ),
        filed_at=now,
    )
    await enqueue(
        conn,
        build_event(data, source=SOURCE, subject=str(complaint_id)),
        topic=data.topic,
        key=str(complaint_id),
    )
    return ComplaintPublic(
        id=complaint_id,
        complaint_code=code,
        category=body.category,
        channel=body.channel,
        status=ComplaintStatus.RECEIVED.value,
        anonymous=body.anonymous,
        confidential=body.confidential,
        tracking_code=tracking_code,
        linked_request_progress=linked["progress"] if linked else None,
        created_at=now,
    )
