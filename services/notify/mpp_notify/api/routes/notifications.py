"""Delivery log: what was sent to whom (masked), per request or complaint."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from mpp_notify.api.schemas import NotificationList, NotificationPublic
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.web import PoolDep

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.SUPERVISOR, Role.FRONTDESK, Role.COMPLAINT_OFFICER)),
]


@router.get(
    "", response_model=NotificationList, summary="Delivery log by application, complaint or code"
)
async def list_notifications(
    pool: PoolDep,
    _reader: Reader,
    application_id: uuid.UUID | None = None,
    complaint_id: uuid.UUID | None = None,
    tracking_code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    rows = await pool.fetch(
        "SELECT * FROM delivery_log WHERE ($1::uuid IS NULL OR application_id = $1) "
        "AND ($2::uuid IS NULL OR complaint_id = $2) AND ($3::text IS NULL OR tracking_code = $3) "
        "ORDER BY created_at LIMIT $4",
        application_id,
        complaint_id,
        tracking_code,
        limit,
    )
    items = [NotificationPublic(**{k: r[k] for k in NotificationPublic.model_fields}) for r in rows]
    return NotificationList(items=items, count=len(items))
