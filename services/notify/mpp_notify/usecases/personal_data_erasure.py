"""A resident's erasure, notify's part (asked by intake with a
`SubjectRequest`, see mpp_shared.personal_data): the retention rules of
`mpp_notify.store.retention` applied now to the messages logged to the
resident's phone or e-mail or about their applications, the contacts kept
to tell them, and their WhatsApp conversation. What is past its period is
erased at once; the rest is listed as kept, with until when and why.
Audited (`personal_data.erased`, counts only)."""

from __future__ import annotations

import asyncpg

from mpp_notify.settings import NotifySettings
from mpp_notify.store import personal_data, retention
from mpp_notify.usecases.personal_data_export import recipient_indexes
from mpp_shared.auth import Principal
from mpp_shared.errors import Language
from mpp_shared.personal_data import ServiceErasure, SubjectRequest
from mpp_shared.pii import FieldCipher
from mpp_shared.retention import Kind, erase_for_subject, retention_task
from mpp_shared.runtime import BackgroundTask

SERVICE = "notify"


def kinds(settings: NotifySettings) -> list[Kind]:
    return retention.kinds(
        messages_days=settings.retention_messages_days,
        contacts_days=settings.retention_contacts_days,
        whatsapp_days=settings.retention_whatsapp_days,
        journal_days=settings.event_retention_days,
    )


async def erase(
    pool: asyncpg.Pool,
    *,
    settings: NotifySettings,
    cipher: FieldCipher,
    officer: Principal,
    request: SubjectRequest,
    language: Language = "id",
) -> ServiceErasure:
    subject = request.subject
    indexes = recipient_indexes(cipher, subject)
    senders = [
        i
        for p in subject.phones
        for i in cipher.blind_indexes(f"whatsapp:{p}", context="recipient")
    ]
    async with pool.acquire() as conn:
        messages = await personal_data.messages(conn, indexes, subject.application_ids)
        complaints = await personal_data.complaints_told(conn, indexes)
        kept = await personal_data.recipients(conn, subject.application_ids, complaints)
        talks = await personal_data.conversations(conn, senders)
    return await erase_for_subject(
        pool,
        service=SERVICE,
        kinds=kinds(settings),
        holdings=retention.holdings(messages, kept, talks),
        principal=officer,
        request_id=request.request_id,
        reason=request.reason,
        language=language,
    )


def retention_job(settings: NotifySettings) -> BackgroundTask:
    """The retention job's background task (mpp_shared.retention)."""
    return retention_task(settings, kinds(settings))
