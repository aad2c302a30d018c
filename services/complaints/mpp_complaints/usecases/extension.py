"""Extending a request for information's answer deadline (UU 14/2008): once,
by INFORMATION_EXTENSION_DAYS working days, with a reason the requester is
told (`mpp.complaint.deadline_extended.v1`, which notify turns into a
message). The running information timer's `due_at` moves; a missed
extended deadline is escalated like any other (usecases/deadlines.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from mpp_complaints.domain.kinds import extension_refusal
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import complaints
from mpp_complaints.store.complaints import COMPLAINT
from mpp_complaints.store.deadlines import move_running_due
from mpp_complaints.usecases.lifecycle import finish, in_force, now
from mpp_complaints.usecases.views import ComplaintState, state_of
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict
from mpp_shared.events.schemas import ComplaintDeadlineExtendedV1
from mpp_shared.workcal import calendar_of


@dataclass(frozen=True)
class ExtendDeadline:
    complaint_id: uuid.UUID
    reason: str
    expected_version: int | None = None


async def extend_deadline(
    pool: asyncpg.Pool,
    command: ExtendDeadline,
    *,
    officer: Principal,
    settings: ComplaintsSettings,
) -> ComplaintState:
    """The request with its deadline extended; Conflict when it is not a
    request for information waiting for its answer, was extended before,
    its deadline has passed, or `expected_version` is stale."""
    at = now()
    async with pool.acquire() as conn, conn.transaction():
        row = await complaints.lock(conn, command.complaint_id)
        if row is None:
            raise COMPLAINT.not_found()
        if command.expected_version is not None and command.expected_version != row["version"]:
            raise Conflict(
                "stale_version",
                "Permintaan informasi sudah diubah orang lain; muat ulang lalu coba lagi",
                "The request changed since you read it; reload and retry",
                **in_force(row),
            )
        refusal = extension_refusal(
            kind=row["kind"],
            step=row["step"],
            extended_at=row["extended_at"],
            due=row["step_due_at"],
            now=at,
        )
        if refusal is not None:
            raise Conflict(*refusal, **in_force(row))
        previous = row["step_due_at"]
        due = settings.information_clock().extended_due(calendar_of(settings), previous)
        await move_running_due(conn, command.complaint_id, due)
        await complaints.record_extension(conn, command.complaint_id, at, command.reason)
        event = ComplaintDeadlineExtendedV1(
            complaint_id=command.complaint_id,
            complaint_code=row["complaint_code"],
            category=row["category"],
            kind=row["kind"],
            reason=command.reason,
            previous_due_at=previous,
            due_at=due,
            extended_by=officer.subject,
            extended_at=at,
        )
        await finish(
            conn,
            officer,
            command.complaint_id,
            action="complaint.deadline_extended",
            event=event,
            previous_due_at=previous.isoformat(),
            due_at=due.isoformat(),
        )
        return await state_of(conn, command.complaint_id)
