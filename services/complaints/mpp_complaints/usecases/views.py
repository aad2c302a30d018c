"""Reading complaints as officers and OPD systems see them: the answers the
use cases give, never the reporter's contact."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from mpp_complaints.store import complaints
from mpp_complaints.store.complaints import COMPLAINT


class ComplaintPublic(BaseModel):
    id: uuid.UUID
    complaint_code: str
    category: str
    channel: str
    status: str
    anonymous: bool
    confidential: bool = False
    tracking_code: str | None
    linked_request_progress: str | None = None
    linked_request_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    picked_up_at: datetime | None = None
    created_at: datetime


class ComplaintState(BaseModel):
    """A complaint's lifecycle state; never the reporter's contact."""

    id: uuid.UUID
    complaint_code: str
    category: str
    channel: str
    status: str
    anonymous: bool
    tracking_code: str | None
    opd: str | None
    step: str | None
    step_due_at: datetime | None
    response_text: str | None
    responded_at: datetime | None
    rating: int | None
    closed_at: datetime | None
    reopen_count: int
    rejection_reason: str | None
    duplicate_of: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime
    # The request the complaint names (by tracking code), as complaints knows it.
    linked_request_progress: str | None = None
    linked_request_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    picked_up_at: datetime | None = None


async def read_complaint(pool: asyncpg.Pool, complaint_id: uuid.UUID) -> ComplaintPublic:
    """One complaint; NotFound when there is none."""
    async with pool.acquire() as conn:
        row = await _with_request(conn, complaint_id)
    return ComplaintPublic(**{k: row[k] for k in ComplaintPublic.model_fields})


async def state_of(conn: asyncpg.Connection, complaint_id: uuid.UUID) -> ComplaintState:
    """The complaint's state as the caller's transaction sees it."""
    row = await _with_request(conn, complaint_id)
    return ComplaintState(**{k: row[k] for k in ComplaintState.model_fields})


async def _with_request(conn: asyncpg.Connection, complaint_id: uuid.UUID) -> asyncpg.Record:
    row = await complaints.with_request(conn, complaint_id)
    if row is None:
        raise COMPLAINT.not_found()
    return row
