"""Reading complaints as officers and OPD systems see them: the answers the
use cases give, never the reporter's identity or contact (whether or not the
complaint is anonymous or confidential: no answer carries them)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel, Field

from mpp_complaints.domain.queue import is_overdue
from mpp_complaints.store import complaints
from mpp_complaints.store.complaints import COMPLAINT
from mpp_complaints.usecases.lifecycle import now
from mpp_complaints.usecases.scope import opd_scope, refuse_unseen
from mpp_shared.auth import Principal


class ComplaintPublic(BaseModel):
    id: uuid.UUID
    complaint_code: str
    kind: str = Field(description="aspirasi, pengaduan or permintaan_informasi")
    category: str
    channel: str
    status: str
    anonymous: bool
    confidential: bool = False
    publication_consent: bool = False
    tracking_code: str | None
    linked_request_progress: str | None = None
    linked_request_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    picked_up_at: datetime | None = None
    created_at: datetime


class ComplaintDetail(ComplaintPublic):
    """A complaint as the officer or OPD working it reads it: what was
    filed and where it stands; never the reporter's name or contact."""

    description: str
    opd: str | None
    step: str | None
    step_due_at: datetime | None
    overdue: bool = False
    response_text: str | None
    responded_at: datetime | None
    reopen_count: int
    rejection_reason: str | None
    extended_at: datetime | None = Field(
        description="When a request for information's deadline was extended (once)"
    )
    extension_reason: str | None
    version: int
    updated_at: datetime


class ComplaintState(BaseModel):
    """A complaint's lifecycle state; never the reporter's contact."""

    id: uuid.UUID
    complaint_code: str
    kind: str
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
    extended_at: datetime | None
    extension_reason: str | None
    publication_consent: bool
    version: int
    created_at: datetime
    updated_at: datetime
    # The request the complaint names (by tracking code), as complaints knows it.
    linked_request_progress: str | None = None
    linked_request_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    picked_up_at: datetime | None = None


async def read_complaint(
    pool: asyncpg.Pool, complaint_id: uuid.UUID, *, viewer: Principal
) -> ComplaintDetail:
    """One complaint; NotFound when there is none or the viewer (an OPD's
    system) may not see it, Forbidden for an OPD system naming no OPD."""
    opd_scope(viewer)  # an OPD system naming no OPD reads nothing
    async with pool.acquire() as conn:
        row = await _with_request(conn, complaint_id)
    refuse_unseen(viewer, row["opd"])
    fields = {k: row[k] for k in ComplaintDetail.model_fields if k != "overdue"}
    overdue = is_overdue(row["step"], row["status"], row["step_due_at"], now())
    return ComplaintDetail(**fields, overdue=overdue)


async def state_of(conn: asyncpg.Connection, complaint_id: uuid.UUID) -> ComplaintState:
    """The complaint's state as the caller's transaction sees it."""
    row = await _with_request(conn, complaint_id)
    return ComplaintState(**{k: row[k] for k in ComplaintState.model_fields})


async def _with_request(conn: asyncpg.Connection, complaint_id: uuid.UUID) -> asyncpg.Record:
    row = await complaints.with_request(conn, complaint_id)
    if row is None:
        raise COMPLAINT.not_found()
    return row
