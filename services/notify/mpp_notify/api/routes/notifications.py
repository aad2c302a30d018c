"""Delivery log: what was sent to whom (masked), every attempt, and resends."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from mpp_notify.api.deps import CipherDep, WakeMessages
from mpp_notify.api.schemas import NotificationList, RecipientSearch
from mpp_notify.domain.template_rendering import Channel
from mpp_notify.usecases import notifications
from mpp_notify.usecases.notifications import NotificationDetail, Status
from mpp_shared.auth import Principal, Role
from mpp_shared.web import PG_INT_MAX, PoolDep
from mpp_shared.web.auth import require_roles
from mpp_shared.web.paging import CursorQuery

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.SUPERVISOR, Role.FRONTDESK, Role.COMPLAINT_OFFICER)),
]
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]


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
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=PG_INT_MAX)] = 0,
    cursor: CursorQuery = None,
) -> Any:
    items, following = await notifications.list_notifications(
        pool,
        application_id=application_id,
        complaint_id=complaint_id,
        tracking_code=tracking_code,
        status=status,
        channel=channel,
        limit=limit,
        offset=offset,
        cursor=cursor,
    )
    return NotificationList(items=items, count=len(items), next_cursor=following)


@router.post(
    "/search",
    response_model=NotificationList,
    summary="Messages sent to one phone number or e-mail address (given in the body)",
)
async def search_by_recipient(
    body: RecipientSearch, pool: PoolDep, cipher: CipherDep, _reader: Reader
) -> Any:
    items = await notifications.search_by_recipient(pool, cipher, body.recipient, body.limit)
    return NotificationList(items=items, count=len(items))


@router.get(
    "/{notification_id:uuid}",
    response_model=NotificationDetail,
    summary="One message with every delivery attempt",
)
async def get_notification(notification_id: uuid.UUID, pool: PoolDep, _reader: Reader) -> Any:
    return await notifications.notification_detail(pool, notification_id)


@router.post(
    "/{notification_id:uuid}/resend",
    response_model=NotificationDetail,
    summary="Send a delivered or dead message again (supervisor)",
)
async def resend(
    notification_id: uuid.UUID, pool: PoolDep, supervisor: Supervisor, wake: WakeMessages
) -> Any:
    return await notifications.resend(pool, supervisor, notification_id, wake_dispatcher=wake)
