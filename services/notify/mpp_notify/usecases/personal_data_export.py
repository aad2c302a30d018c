"""A resident's requests about their data, notify's part (asked by intake,
see mpp_shared.personal_data). Notify knows a resident by their contacts:
the messages logged to their phone (SMS, WhatsApp) or e-mail, found by the
delivery log's recipient blind index under every configured index key; the
messages about their applications; whom it tells about those applications
and about the complaints whose messages went to them (`recipients`); their
WhatsApp conversation with the assistant. The correction moves the messages
not sent yet, and the contacts kept, from the old phone / e-mail to the new
one, so the next message goes there. Each is audited, naming the request
and counts."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from mpp_notify.domain.recipients import Recipient
from mpp_notify.store import personal_data
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.personal_data import (
    CorrectionRequest,
    Record,
    ServiceCorrection,
    ServiceExport,
    Subject,
    SubjectRequest,
)
from mpp_shared.pii import FieldCipher
from mpp_shared.subject_records import record

SERVICE = "notify"
TARGET = "personal_data_request"
PHONE_CHANNELS = ("sms", "whatsapp")


def _indexes(cipher: FieldCipher, channel: str, address: str) -> list[bytes]:
    return cipher.blind_indexes(f"{channel}:{address}", context="recipient")


def recipient_indexes(cipher: FieldCipher, subject: Subject) -> list[bytes]:
    """The blind indexes the resident's messages are logged under, every key."""
    found = [i for p in subject.phones for c in PHONE_CHANNELS for i in _indexes(cipher, c, p)]
    return found + [i for e in subject.emails for i in _indexes(cipher, "email", e.lower())]


async def export(
    pool: asyncpg.Pool, cipher: FieldCipher, officer: Principal, request: SubjectRequest
) -> ServiceExport:
    subject = request.subject
    indexes = recipient_indexes(cipher, subject)
    async with pool.acquire() as conn, conn.transaction():
        messages = await personal_data.messages(conn, indexes, subject.application_ids)
        complaints = await personal_data.complaints_told(conn, indexes)
        kept = await personal_data.recipients(conn, subject.application_ids, complaints)
        talks = await personal_data.conversations(
            conn, [i for p in subject.phones for i in _indexes(cipher, "whatsapp", p)]
        )
        records = [_message(cipher, m) for m in messages]
        records += [_recipient(cipher, r) for r in kept]
        records += [_conversation(cipher, c) for c in talks]
        await audit.record(
            conn,
            officer,
            action="personal_data.exported",
            target_type=TARGET,
            target_id=str(request.request_id),
            detail={
                "messages": len(messages),
                "recipients": len(kept),
                "conversations": len(talks),
                "reason": request.reason,
            },
        )
    return ServiceExport(service=SERVICE, records=records)


def _message(cipher: FieldCipher, row: asyncpg.Record) -> Record:
    clear: dict[str, Any] = {}
    if row["recipient_enc"] is not None:
        clear["recipient"] = cipher.decrypt(row["recipient_enc"], context="recipient-address")
    return record("message", row, clear=clear)


def _recipient(cipher: FieldCipher, row: asyncpg.Record) -> Record:
    contact = (
        json.loads(cipher.decrypt(row["contact_enc"], context="contact"))
        if row["contact_enc"] is not None
        else None
    )
    return Record(
        kind=f"{row['subject_type']}_contact",
        id=str(row["subject_id"]),
        at=row["created_at"],
        data={
            "subject_type": row["subject_type"],
            "subject_id": row["subject_id"],
            "contact": contact,
        },
    )


def _conversation(cipher: FieldCipher, row: asyncpg.Record) -> Record:
    sender = cipher.decrypt(row["sender_enc"], context="whatsapp-sender")
    return record(
        "whatsapp_conversation",
        {"id": f"whatsapp:{sender}", **dict(row)},
        clear={"sender": sender},
        at_column="updated_at",
    )


async def correct(
    pool: asyncpg.Pool, cipher: FieldCipher, officer: Principal, request: CorrectionRequest
) -> ServiceCorrection:
    subject = request.subject
    new_address = {"phone": request.new_phone, "email": request.new_email}
    old = {"phone": set(subject.phones), "email": {e.lower() for e in subject.emails}}
    indexes = recipient_indexes(cipher, subject)
    moved = changed = 0
    async with pool.acquire() as conn, conn.transaction():
        for row in await personal_data.pending_for_update(conn, indexes):
            kind = "email" if row["channel"] == "email" else "phone"
            address = cipher.decrypt(row["recipient_enc"], context="recipient-address")
            target = new_address[kind]
            if not target or _normal(kind, address) not in old[kind]:
                continue
            moved += await personal_data.set_address(
                conn,
                row["id"],
                recipient_enc=cipher.encrypt(target, context="recipient-address"),
                recipient_index=cipher.blind_index(
                    f"{row['channel']}:{target}", context="recipient"
                ),
                recipient_masked=Recipient(row["channel"], target, "id").masked,
            )
        complaints = await personal_data.complaints_told(conn, indexes)
        for row in await personal_data.recipients(
            conn, subject.application_ids, complaints, for_update=True
        ):
            contact: dict[str, Any] = json.loads(
                cipher.decrypt(row["contact_enc"], context="contact")
            )
            new = dict(contact)
            for kind in ("phone", "email"):
                value = contact.get(kind)
                if value and new_address[kind] and _normal(kind, value) in old[kind]:
                    new[kind] = new_address[kind]
            if new != contact:
                await personal_data.set_contact(
                    conn,
                    row["subject_type"],
                    row["subject_id"],
                    cipher.encrypt(json.dumps(new), context="contact"),
                )
                changed += 1
        await audit.record(
            conn,
            officer,
            action="personal_data.corrected",
            target_type=TARGET,
            target_id=str(request.request_id),
            detail={"messages": moved, "recipients": changed, "reason": request.reason},
        )
    return ServiceCorrection(service=SERVICE, corrected={"message": moved, "recipient": changed})


def _normal(kind: str, value: str) -> str:
    return value.lower() if kind == "email" else value
