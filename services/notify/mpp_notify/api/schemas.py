from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class NotificationPublic(BaseModel):
    id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str
    provider: str
    recipient_masked: str
    language: str
    body: str
    status: str
    application_id: uuid.UUID | None
    complaint_id: uuid.UUID | None
    tracking_code: str | None
    trace_id: str | None
    created_at: datetime


class NotificationList(BaseModel):
    items: list[NotificationPublic]
    count: int
