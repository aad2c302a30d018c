"""Assigning a complaint to an OPD (by default the category's responsible
one), or reassigning it to another: each starts the follow-up step, except
for a request for information, whose answer deadline (counted from filing)
goes on (domain/kinds.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from mpp_complaints.domain.kinds import keeps_clock_when_assigned
from mpp_complaints.domain.lifecycle import Status, Step
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import categories, complaints
from mpp_complaints.usecases.deadlines import (
    start_category_step,
    start_information_step,
)
from mpp_complaints.usecases.lifecycle import begin, finish, in_force, now
from mpp_complaints.usecases.views import ComplaintState, state_of
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict, Invalid
from mpp_shared.events.schemas import ComplaintAssignedV1
from mpp_shared.workcal import calendar_of


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
        due = await _follow_up_due(conn, row, opd, at, settings)
        await complaints.move(conn, command.complaint_id, Status.ASSIGNED, at, opd=opd)
        event = ComplaintAssignedV1(
            complaint_id=command.complaint_id,
            complaint_code=row["complaint_code"],
            category=row["category"],
            kind=row["kind"],
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


async def _follow_up_due(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    opd: str,
    at: datetime,
    settings: ComplaintsSettings,
) -> datetime:
    """The deadline the OPD works to: a new follow-up step, or a request for
    information's running answer deadline (started here if the scheduler has
    not started it yet)."""
    calendar = calendar_of(settings)
    if keeps_clock_when_assigned(row["kind"]):
        running: datetime | None = row["step_due_at"]
        if running is not None:
            return running
        return await start_information_step(
            conn,
            complaint_id=row["id"],
            filed_at=row["created_at"],
            calendar=calendar,
            clock=settings.information_clock(),
        )
    return await start_category_step(
        conn,
        complaint_id=row["id"],
        category=row["category"],
        step=Step.FOLLOW_UP,
        opd=opd,
        started_at=at,
        calendar=calendar,
    )
