"""The OPD's work on an assigned complaint: starting on it (in_progress,
the follow-up step goes on) and answering the reporter (responded, which
starts the auto-close step and opens the reopen window). An OPD's system
works only the complaints assigned to its OPD: another's is not found
(`usecases/scope.py`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from mpp_complaints.domain.lifecycle import Status, Step, reopen_until
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import complaints
from mpp_complaints.usecases.deadlines import start_category_step
from mpp_complaints.usecases.lifecycle import begin, finish, now
from mpp_complaints.usecases.scope import lock_for
from mpp_complaints.usecases.views import ComplaintState, state_of
from mpp_shared.auth import Principal
from mpp_shared.events.schemas import ComplaintRespondedV1
from mpp_shared.workcal import calendar_of


@dataclass(frozen=True)
class StartHandling:
    complaint_id: uuid.UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class Respond:
    complaint_id: uuid.UUID
    text: str
    expected_version: int | None = None


async def start_handling(
    pool: asyncpg.Pool, command: StartHandling, *, handler: Principal
) -> ComplaintState:
    """The complaint in progress (no event: the follow-up step goes on)."""
    at = now()
    async with pool.acquire() as conn, conn.transaction():
        await lock_for(conn, command.complaint_id, handler)
        await begin(conn, command.complaint_id, Status.IN_PROGRESS, command.expected_version)
        await complaints.move(conn, command.complaint_id, Status.IN_PROGRESS, at)
        await finish(conn, handler, command.complaint_id, action="complaint.in_progress")
        return await state_of(conn, command.complaint_id)


async def respond(
    pool: asyncpg.Pool,
    command: Respond,
    *,
    handler: Principal,
    settings: ComplaintsSettings,
) -> ComplaintState:
    """The response recorded and sent to the reporter (by the event)."""
    at = now()
    calendar = calendar_of(settings)
    async with pool.acquire() as conn, conn.transaction():
        await lock_for(conn, command.complaint_id, handler)
        row = await begin(conn, command.complaint_id, Status.RESPONDED, command.expected_version)
        await start_category_step(
            conn,
            complaint_id=command.complaint_id,
            category=row["category"],
            step=Step.AUTO_CLOSE,
            opd=row["opd"],
            started_at=at,
            calendar=calendar,
        )
        await complaints.move(
            conn,
            command.complaint_id,
            Status.RESPONDED,
            at,
            response_text=command.text,
            responded_at=at,
        )
        event = ComplaintRespondedV1(
            complaint_id=command.complaint_id,
            complaint_code=row["complaint_code"],
            category=row["category"],
            kind=row["kind"],
            opd=row["opd"],
            response=command.text,
            responded_by=handler.subject,
            responded_at=at,
            reopen_until=reopen_until(calendar, at, settings.reopen_window_days),
        )
        await finish(conn, handler, command.complaint_id, action="complaint.responded", event=event)
        return await state_of(conn, command.complaint_id)
