"""The delivery log as officers read it: what was sent to whom (the recipient
only masked), every attempt, found by application, complaint, tracking code
or the recipient's own phone number or e-mail address (matched through its
blind index, never stored in the clear); and a supervisor's resend of a
delivered or dead message, audited, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel

from mpp_notify.store import delivery_log
from mpp_shared import audit, paging
from mpp_shared.auth import Principal
from mpp_shared.contacts import InvalidValue, normalise_phone, validate_email
from mpp_shared.errors import Conflict, Invalid, NotFound
from mpp_shared.pii import FieldCipher

# sent: accepted by a provider that reports delivery (WhatsApp), not yet on the handset.
Status = Literal["queued", "held", "sending", "retrying", "sent", "delivered", "dead"]
IN_FLIGHT: tuple[Status, ...] = ("queued", "held", "sending", "retrying")


class NotificationPublic(BaseModel):
    """One message in the delivery log; the recipient only masked."""

    id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str
    provider: str
    recipient_masked: str
    language: str
    subject: str | None = None
    body: str
    status: str  # queued | held | sending | retrying | sent | delivered | dead
    sent_at: datetime | None = None
    read_at: datetime | None = None
    urgent: bool = True
    attempts: int = 0
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    dead_at: datetime | None = None
    resends: int = 0
    application_id: uuid.UUID | None
    complaint_id: uuid.UUID | None
    tracking_code: str | None
    trace_id: str | None
    created_at: datetime
    updated_at: datetime | None = None


class AttemptPublic(BaseModel):
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # delivered | transient | permanent | interrupted
    status_code: int | None
    provider_message_id: str | None
    error: str | None


class NotificationDetail(NotificationPublic):
    attempts_log: list[AttemptPublic]


def _public(row: asyncpg.Record) -> NotificationPublic:
    return NotificationPublic(**{k: row[k] for k in NotificationPublic.model_fields})


# The one order of the delivery log's listing, named in its cursors.
LIST_SORT = "notifications.oldest"


async def list_notifications(
    pool: asyncpg.Pool,
    *,
    application_id: uuid.UUID | None,
    complaint_id: uuid.UUID | None,
    tracking_code: str | None,
    status: Status | None,
    channel: str | None,
    limit: int,
    offset: int,
    cursor: str | None = None,
) -> tuple[list[NotificationPublic], str | None]:
    """One page of the delivery log, oldest first, and the cursor of the
    next page (None on the last): after `cursor` when given, else from
    `offset` on."""
    after = None
    if cursor is not None:
        created_at, after_id = paging.decode(cursor, LIST_SORT, (paging.TIMESTAMP, paging.UUID))
        after = (created_at, after_id)
    async with pool.acquire() as conn:
        rows = await delivery_log.find_page(
            conn,
            application_id=application_id,
            complaint_id=complaint_id,
            tracking_code=tracking_code,
            status=status,
            channel=channel,
            limit=limit + 1,
            offset=offset,
            after=after,
        )
    shown, following = paging.page_of(rows, limit, LIST_SORT, lambda r: (r["created_at"], r["id"]))
    return [_public(row) for row in shown], following


async def search_by_recipient(
    pool: asyncpg.Pool, cipher: FieldCipher, recipient: str, limit: int
) -> list[NotificationPublic]:
    """Newest first: the messages sent to this phone number or e-mail address."""
    keys = recipient_keys(cipher, recipient)
    async with pool.acquire() as conn:
        rows = await delivery_log.find_to_recipient(conn, keys, limit)
    return [_public(row) for row in rows]


def recipient_keys(cipher: FieldCipher, recipient: str) -> list[bytes]:
    """The blind indexes the recipient may be logged under (a phone number is
    both an SMS and a WhatsApp recipient)."""
    value = recipient.strip()
    try:
        if "@" in value:
            return cipher.blind_indexes(f"email:{validate_email(value)}", context="recipient")
        phone = normalise_phone(value)
    except InvalidValue as exc:
        raise Invalid.field(
            "recipient",
            exc.code,
            "bukan nomor telepon atau alamat e-mail yang sah",
            "is not a valid phone number or e-mail address",
        ) from exc
    # Under every configured index key, so messages logged before a key
    # rotation are found while it moves them.
    return [
        index
        for channel in ("sms", "whatsapp")
        for index in cipher.blind_indexes(f"{channel}:{phone}", context="recipient")
    ]


async def notification_detail(pool: asyncpg.Pool, notification_id: uuid.UUID) -> NotificationDetail:
    async with pool.acquire() as conn:
        return await _detail(conn, notification_id)


async def _detail(conn: asyncpg.Connection, notification_id: uuid.UUID) -> NotificationDetail:
    row = await delivery_log.find(conn, notification_id)
    if row is None:
        raise NotFound(
            "not_found",
            "Pesan tidak ditemukan di catatan pengiriman",
            "No such message in the delivery log",
        )
    attempts = await delivery_log.attempts(conn, notification_id)
    return NotificationDetail(
        **_public(row).model_dump(),
        attempts_log=[
            AttemptPublic(**{k: a[k] for k in AttemptPublic.model_fields}) for a in attempts
        ],
    )


async def resend(
    pool: asyncpg.Pool,
    supervisor: Principal,
    notification_id: uuid.UUID,
    *,
    wake_dispatcher: Callable[[], None],
) -> NotificationDetail:
    """Queue a delivered or dead message again (a message still being sent is
    refused with its state), then wake the dispatcher once it is committed."""
    async with pool.acquire() as conn, conn.transaction():
        status = await delivery_log.lock_status(conn, notification_id)
        if status is None:
            await _detail(conn, notification_id)  # the NotFound
        if status in IN_FLIGHT:
            raise Conflict(
                "in_flight",
                f"Pesan ini masih dalam proses pengiriman (status {status})",
                f"This message is still being sent (status {status})",
                current_state=status,
            )
        await delivery_log.queue_again(conn, notification_id)
        await audit.record(
            conn,
            supervisor,
            action="notification.resent",
            target_type="notification",
            target_id=str(notification_id),
            detail={"previous_status": status},
        )
        answer = await _detail(conn, notification_id)
    wake_dispatcher()
    return answer
