"""Verifying a complaint, or rejecting it (not a complaint, a duplicate of
another): the first decision on a received complaint. Verifying keeps the
verification step's clock running; rejecting ends the complaint."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from mpp_complaints.domain.lifecycle import RejectionReason, Status
from mpp_complaints.store import complaints
from mpp_complaints.usecases.deadlines import end_step
from mpp_complaints.usecases.lifecycle import begin, finish, now
from mpp_complaints.usecases.views import ComplaintState, state_of
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid
from mpp_shared.events import EventData
from mpp_shared.events.schemas import ComplaintRejectedV1, ComplaintVerifiedV1


@dataclass(frozen=True)
class DecideVerification:
    complaint_id: uuid.UUID
    decision: Literal["verified", "rejected"]
    reason: RejectionReason | None = None  # a rejection has one
    duplicate_of: uuid.UUID | None = None  # for reason=duplicate
    note: str | None = None
    expected_version: int | None = None


async def decide_verification(
    pool: asyncpg.Pool, command: DecideVerification, *, officer: Principal
) -> ComplaintState:
    """The complaint verified or rejected, with its event and audit entry."""
    at = now()
    target = Status.VERIFIED if command.decision == "verified" else Status.REJECTED
    async with pool.acquire() as conn, conn.transaction():
        row = await begin(conn, command.complaint_id, target, command.expected_version)
        event: EventData
        if target is Status.VERIFIED:
            # The verification step goes on until the complaint is assigned.
            await complaints.move(conn, command.complaint_id, target, at)
            event = ComplaintVerifiedV1(
                complaint_id=command.complaint_id,
                complaint_code=row["complaint_code"],
                category=row["category"],
                kind=row["kind"],
                verified_by=officer.subject,
                verified_at=at,
            )
        else:
            event = await _reject(conn, row, command, officer, at)
        await finish(
            conn,
            officer,
            command.complaint_id,
            action=f"complaint.{target.value}",
            event=event,
            reason=command.reason.value if command.reason else None,
            duplicate_of=str(command.duplicate_of) if command.duplicate_of else None,
        )
        return await state_of(conn, command.complaint_id)


async def _reject(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    command: DecideVerification,
    officer: Principal,
    at: datetime,
) -> ComplaintRejectedV1:
    """End the complaint as rejected; Invalid when the duplicate it names
    is not another complaint."""
    duplicate_code = None
    if command.reason is RejectionReason.DUPLICATE:
        duplicate_code = await complaints.code_of_other(
            conn, command.duplicate_of, command.complaint_id
        )
        if duplicate_code is None:
            raise Invalid.field(
                "duplicate_of",
                "unknown_complaint",
                "pengaduan lain dengan ID ini tidak ada",
                "no other complaint has this id",
            )
    # Only a duplicate's rejection names the other complaint.
    duplicate_of = command.duplicate_of if duplicate_code else None
    reason = command.reason.value if command.reason else None
    await end_step(conn, command.complaint_id, at)
    await complaints.move(
        conn,
        command.complaint_id,
        Status.REJECTED,
        at,
        rejection_reason=reason,
        rejection_note=command.note,
        duplicate_of=duplicate_of,
        closed_at=at,
        closed_by=officer.subject,
    )
    return ComplaintRejectedV1(
        complaint_id=command.complaint_id,
        complaint_code=row["complaint_code"],
        category=row["category"],
        kind=row["kind"],
        reason=reason or RejectionReason.NOT_A_COMPLAINT.value,
        note=command.note,
        duplicate_of=duplicate_of,
        duplicate_of_code=duplicate_code,
        rejected_by=officer.subject,
        rejected_at=at,
    )
