"""The reporter's own steps on a responded complaint, which an officer may
take too: closing it with a rating, or reopening it within the reopen
window. The reporter proves it with the complaint code, without a token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from mpp_complaints.domain.lifecycle import REPORTER, Status, Step, may_reopen
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import complaints
from mpp_complaints.store.complaints import COMPLAINT
from mpp_complaints.usecases.deadlines import end_step, start_category_step
from mpp_complaints.usecases.lifecycle import (
    Caller,
    begin,
    finish,
    in_force,
    now,
    officer_or_reporter,
)
from mpp_complaints.usecases.views import ComplaintState, state_of
from mpp_shared.errors import Conflict, Invalid
from mpp_shared.events.schemas import ComplaintClosedV1, ComplaintReopenedV1
from mpp_shared.workcal import calendar_of


@dataclass(frozen=True)
class CloseComplaint:
    complaint_id: uuid.UUID
    complaint_code: str | None = None  # the reporter's proof; officers omit it
    rating: int | None = None  # 1-5, required from the reporter
    comment: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ReopenComplaint:
    complaint_id: uuid.UUID
    reason: str
    complaint_code: str | None = None  # the reporter's proof; officers omit it
    expected_version: int | None = None


async def close(pool: asyncpg.Pool, command: CloseComplaint, *, caller: Caller) -> ComplaintState:
    """The complaint closed by its reporter (with a rating) or an officer."""
    at = now()
    async with pool.acquire() as conn, conn.transaction():
        found = await complaints.find(conn, command.complaint_id)
        if found is None:
            raise COMPLAINT.not_found()
        officer = officer_or_reporter(caller, found, command.complaint_code)
        if officer is None and command.rating is None:
            raise Invalid.field("rating", "missing", "wajib diisi", "is required")
        row = await begin(conn, command.complaint_id, Status.CLOSED, command.expected_version)
        closed_by = officer.subject if officer else REPORTER
        await end_step(conn, command.complaint_id, at)
        await complaints.move(
            conn,
            command.complaint_id,
            Status.CLOSED,
            at,
            closed_at=at,
            closed_by=closed_by,
            rating=command.rating,
            rating_comment=command.comment,
        )
        event = ComplaintClosedV1(
            complaint_id=command.complaint_id,
            complaint_code=row["complaint_code"],
            category=row["category"],
            kind=row["kind"],
            opd=row["opd"],
            closed_by=closed_by,
            rating=command.rating,
            closed_at=at,
        )
        await finish(
            conn,
            officer,
            command.complaint_id,
            action="complaint.closed",
            event=event,
            rating=command.rating,
        )
        return await state_of(conn, command.complaint_id)


async def reopen(
    pool: asyncpg.Pool,
    command: ReopenComplaint,
    *,
    caller: Caller,
    settings: ComplaintsSettings,
) -> ComplaintState:
    """The complaint reopened (the follow-up step starts again); Conflict
    once the reopen window has passed."""
    at = now()
    calendar = calendar_of(settings)
    async with pool.acquire() as conn, conn.transaction():
        found = await complaints.find(conn, command.complaint_id)
        if found is None:
            raise COMPLAINT.not_found()
        officer = officer_or_reporter(caller, found, command.complaint_code)
        row = await begin(conn, command.complaint_id, Status.REOPENED, command.expected_version)
        if not may_reopen(calendar, row["responded_at"], at, settings.reopen_window_days):
            raise Conflict(
                "reopen_window_passed",
                "Batas waktu membuka kembali pengaduan sudah lewat",
                "The time to reopen the complaint has passed",
                **in_force(row),
            )
        due = await start_category_step(
            conn,
            complaint_id=command.complaint_id,
            category=row["category"],
            step=Step.FOLLOW_UP,
            opd=row["opd"],
            started_at=at,
            calendar=calendar,
        )
        reopen_count = row["reopen_count"] + 1
        await complaints.move(
            conn, command.complaint_id, Status.REOPENED, at, reopen_count=reopen_count
        )
        event = ComplaintReopenedV1(
            complaint_id=command.complaint_id,
            complaint_code=row["complaint_code"],
            category=row["category"],
            kind=row["kind"],
            opd=row["opd"],
            reason=command.reason,
            reopen_count=reopen_count,
            reopened_at=at,
            due_at=due,
        )
        await finish(conn, officer, command.complaint_id, action="complaint.reopened", event=event)
        return await state_of(conn, command.complaint_id)
