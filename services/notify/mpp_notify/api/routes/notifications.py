"""Delivery log: what was sent to whom (masked), every attempt, and resends."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from mpp_notify.api.schemas import (
    AttemptPublic,
    NotificationDetail,
    NotificationList,
    NotificationPublic,
    RecipientSearch,
)
from mpp_shared import audit
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.contacts import InvalidValue, normalise_phone, validate_email
from mpp_shared.pii import FieldCipher
from mpp_shared.web import PG_INT_MAX, ApiError, PoolDep

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.SUPERVISOR, Role.FRONTDESK, Role.COMPLAINT_OFFICER)),
]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
Status = Literal["queued", "held", "sending", "retrying", "delivered", "dead"]
IN_FLIGHT = ("queued", "held", "sending", "retrying")


def _public(row: Any) -> NotificationPublic:
    return NotificationPublic(**{k: row[k] for k in NotificationPublic.model_fields})


@router.get(
    "",
    response_model=NotificationList,
    summary="Delivery log by application, complaint, tracking code, status or channel",
)
async def list_notifications(
    pool: PoolDep,
    _reader: Reader,
    application_id: uuid.UUID | None = None,
    complaint_id: uuid.UUID | None = None,
    tracking_code: str | None = None,
    status: Status | None = None,
    channel: Literal["sms", "whatsapp", "email"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=PG_INT_MAX)] = 0,
) -> Any:
    rows = await pool.fetch(
        "SELECT * FROM delivery_log WHERE ($1::uuid IS NULL OR application_id = $1) "
        "AND ($2::uuid IS NULL OR complaint_id = $2) AND ($3::text IS NULL OR tracking_code = $3) "
        "AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR channel = $5) "
        "ORDER BY created_at, id LIMIT $6 OFFSET $7",
        application_id,
        complaint_id,
        tracking_code,
        status,
        channel,
        limit,
        offset,
    )
    items = [_public(r) for r in rows]
    return NotificationList(items=items, count=len(items))


@router.post(
    "/search",
    response_model=NotificationList,
    summary="Messages sent to one phone number or e-mail address (given in the body)",
)
async def search_by_recipient(
    body: RecipientSearch, request: Request, pool: PoolDep, _reader: Reader
) -> Any:
    cipher: FieldCipher = request.app.state.cipher
    keys = _recipient_keys(cipher, body.recipient)
    rows = await pool.fetch(
        "SELECT * FROM delivery_log WHERE recipient_index = ANY($1::bytea[]) "
        "ORDER BY created_at DESC, id LIMIT $2",
        keys,
        body.limit,
    )
    items = [_public(r) for r in rows]
    return NotificationList(items=items, count=len(items))


def _recipient_keys(cipher: FieldCipher, recipient: str) -> list[bytes]:
    """The blind indexes the recipient may be logged under (a phone number is
    both an SMS and a WhatsApp recipient)."""
    value = recipient.strip()
    try:
        if "@" in value:
            return [cipher.blind_index(f"email:{validate_email(value)}", context="recipient")]
        phone = normalise_phone(value)
    except InvalidValue as exc:
        raise ApiError.invalid(
            "recipient",
            exc.code,
            "bukan nomor telepon atau alamat e-mail yang sah",
            "is not a valid phone number or e-mail address",
        ) from exc
    return [
        cipher.blind_index(f"{channel}:{phone}", context="recipient")
        for channel in ("sms", "whatsapp")
    ]


@router.get(
    "/{notification_id:uuid}",
    response_model=NotificationDetail,
    summary="One message with every delivery attempt",
)
async def get_notification(notification_id: uuid.UUID, pool: PoolDep, _reader: Reader) -> Any:
    async with pool.acquire() as conn:
        return await _detail(conn, notification_id)


async def _detail(conn: Any, notification_id: uuid.UUID) -> NotificationDetail:
    row = await conn.fetchrow("SELECT * FROM delivery_log WHERE id = $1", notification_id)
    if row is None:
        raise ApiError(
            404,
            "not_found",
            "Pesan tidak ditemukan di catatan pengiriman",
            "No such message in the delivery log",
        )
    attempts = await conn.fetch(
        "SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt, id",
        notification_id,
    )
    return NotificationDetail(
        **_public(row).model_dump(),
        attempts_log=[
            AttemptPublic(**{k: a[k] for k in AttemptPublic.model_fields}) for a in attempts
        ],
    )


@router.post(
    "/{notification_id:uuid}/resend",
    response_model=NotificationDetail,
    summary="Send a delivered or dead message again (supervisor)",
)
async def resend(
    notification_id: uuid.UUID, request: Request, pool: PoolDep, supervisor: Supervisor
) -> Any:
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "SELECT status FROM delivery_log WHERE id = $1 FOR UPDATE", notification_id
        )
        if row is None:
            await _detail(conn, notification_id)  # the 404
        if row["status"] in IN_FLIGHT:
            raise ApiError(
                409,
                "in_flight",
                f"Pesan ini masih dalam proses pengiriman (status {row['status']})",
                f"This message is still being sent (status {row['status']})",
                {"current_state": row["status"]},
            )
        await conn.execute(
            "UPDATE delivery_log SET status = 'queued', next_attempt_at = now(), dead_at = NULL, "
            "delivered_at = NULL, last_error = NULL, resends = resends + 1, updated_at = now() "
            "WHERE id = $1",
            notification_id,
        )
        await audit.record(
            conn,
            supervisor,
            action="notification.resent",
            target_type="notification",
            target_id=str(notification_id),
            detail={"previous_status": row["status"]},
        )
        answer = await _detail(conn, notification_id)
    request.app.state.message_dispatcher.wake()
    return answer
