"""Deadlines of the complaint lifecycle's steps and the scheduler that acts on
them (see domain/lifecycle.py for the steps).

Each step a complaint enters is one row of `complaint_deadlines`; entering
the next step cancels the running one in the same transaction. When a
verification, follow-up or information deadline passes, the scheduler emits
`mpp.complaint.escalated.v1` for the supervisor (never for an aspiration:
its timer is marked fired and nothing is emitted, domain/kinds.py); when the
auto-close deadline passes (a response with no reply), it closes the
complaint and emits `mpp.complaint.closed.v1` (automatic). A request for
information starts in the information step (due on the information clock),
not verification; its one extension moves that timer's `due_at`.

Exactly once, with several instances and across restarts: the scheduler locks
the due timer and its complaint together (`FOR UPDATE ... SKIP LOCKED`),
marks the timer `fired_at` and writes the event to the outbox in one
transaction. A timer held by another instance, or whose complaint is being
changed by a request right now, is skipped and looked at again on the next
tick; a marked or cancelled timer no longer matches.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
from opentelemetry import trace

from mpp_complaints.domain.complaints import SOURCE
from mpp_complaints.domain.kinds import InformationClock, escalates, first_step
from mpp_complaints.domain.lifecycle import SYSTEM, Deadlines, Status, Step, due_at
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import complaints
from mpp_complaints.store.categories import deadlines_of
from mpp_complaints.store.deadlines import (
    NEXT_DUE,
    cancel_running_step,
    claim_due,
    claim_unscheduled,
    insert_step,
    mark_fired,
)
from mpp_shared.events import build_event
from mpp_shared.events.schemas import ComplaintClosedV1, ComplaintEscalatedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.runtime import Runtime
from mpp_shared.scheduling import TimerScheduler, linked_root_span, trace_carrier
from mpp_shared.workcal import WorkCalendar, calendar_of, working_calendar

tracer = trace.get_tracer("mpp.complaints.deadlines")


async def end_step(conn: asyncpg.Connection, complaint_id: uuid.UUID, at: datetime) -> None:
    """Cancel the running step's timer (the caller holds the complaint's lock)."""
    await cancel_running_step(conn, complaint_id, at)


async def start_step(
    conn: asyncpg.Connection,
    *,
    complaint_id: uuid.UUID,
    step: Step,
    opd: str | None,
    started_at: datetime,
    calendar: WorkCalendar,
    deadlines: Deadlines,
) -> datetime:
    """End the running step and start `step`; returns its deadline."""
    due = due_at(calendar, step, started_at, deadlines)
    await start_timer(
        conn, complaint_id=complaint_id, step=step, opd=opd, started_at=started_at, due=due
    )
    return due


async def start_information_step(
    conn: asyncpg.Connection,
    *,
    complaint_id: uuid.UUID,
    filed_at: datetime,
    calendar: WorkCalendar,
    clock: InformationClock,
) -> datetime:
    """End the running step and start a request for information's answer
    deadline, counted from filing; returns it."""
    due = clock.answer_due(calendar, filed_at)
    await start_timer(
        conn,
        complaint_id=complaint_id,
        step=Step.INFORMATION,
        opd=None,
        started_at=filed_at,
        due=due,
    )
    return due


async def start_timer(
    conn: asyncpg.Connection,
    *,
    complaint_id: uuid.UUID,
    step: Step,
    opd: str | None,
    started_at: datetime,
    due: datetime,
) -> None:
    """End the running step and start `step`, due at `due`. The timer keeps
    the trace context, so what it fires links back to where it was set."""
    await end_step(conn, complaint_id, started_at)
    carrier = trace_carrier()
    await insert_step(
        conn,
        complaint_id=complaint_id,
        step=step,
        opd=opd,
        started_at=started_at,
        due_at=due,
        traceparent=carrier.get("traceparent"),
        tracestate=carrier.get("tracestate"),
    )


async def start_category_step(
    conn: asyncpg.Connection,
    *,
    complaint_id: uuid.UUID,
    category: str,
    step: Step,
    opd: str | None,
    started_at: datetime,
    calendar: WorkCalendar,
) -> datetime:
    """`start_step` with the deadlines of the complaint's category."""
    return await start_step(
        conn,
        complaint_id=complaint_id,
        step=step,
        opd=opd,
        started_at=started_at,
        calendar=calendar,
        deadlines=await deadlines_of(conn, category),
    )


class DeadlineScheduler(TimerScheduler):
    """Escalates missed deadlines and auto-closes unanswered responses."""

    name = "complaint deadlines"
    next_due_query = NEXT_DUE
    metric = (
        "mpp.complaints.deadlines",
        "mpp.complaints.deadlines.fired",
        "Complaint escalations and automatic closings",
    )
    kinds = ("escalation", "auto_close")

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        calendar: WorkCalendar | None = None,
        information: InformationClock | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(pool, **kwargs)
        self.calendar = calendar or working_calendar()
        self.information = information or InformationClock()

    async def start_verification_steps(self) -> int:
        """Start the first step of newly filed reports (verification, or a
        request for information's answer deadline); returns how many."""
        started = 0
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                rows = await claim_unscheduled(conn, self.batch_size)
                for row in rows:
                    if first_step(row["kind"]) is Step.INFORMATION:
                        await start_information_step(
                            conn,
                            complaint_id=row["id"],
                            filed_at=row["created_at"],
                            calendar=self.calendar,
                            clock=self.information,
                        )
                        continue
                    await start_category_step(
                        conn,
                        complaint_id=row["id"],
                        category=row["category"],
                        step=Step.VERIFICATION,
                        opd=None,
                        started_at=row["created_at"],
                        calendar=self.calendar,
                    )
            started += len(rows)
            if len(rows) < self.batch_size:
                return started

    async def tick(self) -> int:
        await self.start_verification_steps()
        return await super().tick()

    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        fired = {"escalation": 0, "auto_close": 0}
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await claim_due(conn, now, self.batch_size)
            for row in rows:
                await mark_fired(conn, row["id"], now)
                with linked_root_span(
                    tracer,
                    f"complaint deadline {row['step']}",
                    row,
                    {"mpp.complaint_id": str(row["complaint_id"]), "mpp.step": row["step"]},
                ):
                    if row["step"] == Step.AUTO_CLOSE.value:
                        if row["status"] == Status.RESPONDED.value:
                            await _auto_close(conn, row, now)
                            fired["auto_close"] += 1
                    elif escalates(row["kind"], row["step"]):
                        await _escalate(conn, row, now)
                        fired["escalation"] += 1
                    # else an aspiration's missed step: marked, never escalated
        for kind, count in fired.items():
            if count:
                self.fired_counter.add(count, {"kind": kind})
        return sum(fired.values()), len(rows)


async def _escalate(conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> None:
    data = ComplaintEscalatedV1(
        complaint_id=row["complaint_id"],
        complaint_code=row["complaint_code"],
        category=row["category"],
        kind=row["kind"],
        status=row["status"],
        step=row["step"],
        opd=row["opd"] or row["complaint_opd"],
        due_at=row["due_at"],
        escalated_at=now,
    )
    await _emit(conn, data, row["complaint_id"])


async def _auto_close(conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> None:
    await complaints.close_automatically(conn, row["complaint_id"], now, SYSTEM)
    data = ComplaintClosedV1(
        complaint_id=row["complaint_id"],
        complaint_code=row["complaint_code"],
        category=row["category"],
        kind=row["kind"],
        opd=row["complaint_opd"],
        closed_by=SYSTEM,
        automatic=True,
        closed_at=now,
    )
    await _emit(conn, data, row["complaint_id"])


async def _emit(
    conn: asyncpg.Connection,
    data: ComplaintEscalatedV1 | ComplaintClosedV1,
    complaint_id: uuid.UUID,
) -> None:
    await enqueue(
        conn,
        build_event(data, source=SOURCE, subject=str(complaint_id)),
        topic=data.topic,
        key=str(complaint_id),
    )


def scheduler_task(settings: ComplaintsSettings) -> Callable[[Runtime], Awaitable[None]]:
    """The background task `create_service_app(background=...)` runs."""
    calendar = calendar_of(settings)

    async def complaint_deadlines_scheduler(runtime: Runtime) -> None:
        await DeadlineScheduler(
            runtime.pool,
            calendar=calendar,
            information=settings.information_clock(),
            interval=settings.complaint_scheduler_interval,
        ).run()

    return complaint_deadlines_scheduler
