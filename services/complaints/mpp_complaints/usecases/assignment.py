"""Assigning a complaint to an OPD (by default the category's responsible
one), or reassigning it to another: each starts the follow-up step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from mpp_complaints.domain.lifecycle import Status, Step
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import categories, complaints
from mpp_complaints.usecases.deadlines import calendar_of, start_category_step
from mpp_complaints.usecases.lifecycle import begin, finish, in_force, now
from mpp_complaints.usecases.views import ComplaintState, state_of
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict, Invalid
from mpp_shared.events.schemas import ComplaintAssignedV1


@dataclass(frozen=True)
class AssignComplaint:
    complaint_id: uuid.UUID
    opd: str | None = None  # None: the category's responsible OPD
    expected_version: int | None = None


async def assign(
    pool: asyncpg.Pool,
    command: AssignComplaint,
    *,
    officer: Principal,
    settings: ComplaintsSettings,
) -> ComplaintState:
    """The complaint with the OPD; Conflict when reassigned to the OPD it is with."""
    at = now()
    async with pool.acquire() as conn, conn.transaction():
        row = await begin(conn, command.complaint_id, Status.ASSIGNED, command.expected_version)
        opd = command.opd or await categories.opd_of(conn, row["category"])
        if opd is None:
            raise Invalid.field("opd", "missing", "wajib diisi", "is required")
        if row["status"] != Status.VERIFIED.value and opd == row["opd"]:
            raise Conflict(
                "same_opd",
                f"Pengaduan sudah ditangani {opd}",
                f"The complaint is already with {opd}",
                **in_force(row),
            )
        due = await start_category_step(
            conn,
            complaint_id=command.complaint_id,
            category=row["category"],
            step=Step.FOLLOW_UP,
            opd=opd,
            started_at=at,
            calendar=calendar_of(settings),
        )
        await complaints.move(conn, command.complaint_id, Status.ASSIGNED, at, opd=opd)
        event = ComplaintAssignedV1(
            complaint_id=command.complaint_id,
            complaint_code=row["complaint_code"],
            category=row["category"],
            anonymous=row["anonymous"],
            opd=opd,
            previous_opd=row["opd"],
            assigned_by=officer.subject,
            assigned_at=at,
            due_at=due,
        )
        await finish(
            conn,
            officer,
            command.complaint_id,
            action="complaint.assigned",
            event=event,
            opd=opd,
            previous=row["opd"],
        )
        return await state_of(conn, command.complaint_id)
