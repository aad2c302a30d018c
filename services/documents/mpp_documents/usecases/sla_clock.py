"""SLA clocks of production jobs and the scheduler that fires them.

A clock runs from the moment a job starts to its due moment (the promise
intake made to the citizen). At `warn_at` (by default 75 % of the time used,
`mpp_documents.domain.sla_clock`) it emits `mpp.sla.warning.v1`, at `due_at`
`mpp.sla.breached.v1`, each at most once and only while the job is still
open: a clock is stopped when the job is picked up or cancelled.

Exactly once, with several instances and across restarts: the scheduler locks
due rows with `FOR UPDATE SKIP LOCKED`, marks them `warned_at` / `breached_at`
and writes the events to the outbox in the same transaction. A row another
instance holds is skipped, a row already marked no longer matches, and a
transaction that dies takes its marks and its events with it.

When a clock is found past both moments at once (after an outage, or a job
that started late), it emits the warning, then the breach, in that order and
under the same key.

Cost: the scheduler reads two partial indexes that hold only clocks still to
fire, and sleeps until the earliest of them comes due (at most
`sla_scheduler_interval`), so its work follows the jobs coming due, not the
number of jobs.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
from opentelemetry import trace

from mpp_documents.domain.sla_clock import DEFAULT_WARNING_SHARE, warn_at
from mpp_documents.settings import DocumentsSettings
from mpp_documents.store import sla_clocks
from mpp_documents.usecases import SOURCE
from mpp_shared.events import build_event
from mpp_shared.events.schemas import SlaBreachedV1, SlaWarningV1
from mpp_shared.events.topics import Topic
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.runtime import Runtime
from mpp_shared.scheduling import TimerScheduler, linked_root_span, trace_carrier
from mpp_shared.workcal import WorkCalendar

tracer = trace.get_tracer("mpp.documents.sla")


async def start_clock(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    application_id: uuid.UUID,
    tracking_code: str,
    service_code: str,
    pickup_point: str | None,
    started_at: datetime,
    due_at: datetime,
    share: float = DEFAULT_WARNING_SHARE,
    calendar: WorkCalendar | None = None,
) -> bool:
    """Start the job's clock in the caller's transaction; False when it
    already has one (a redelivered event, a retried request): the first clock
    stands.

    `calendar` given: the warning moment is a share of working time, else of
    wall time (see `warn_at`).
    """
    carrier = trace_carrier()  # the fired events' spans link back to this one
    return await sla_clocks.insert_clock(
        conn,
        job_id=job_id,
        application_id=application_id,
        tracking_code=tracking_code,
        service_code=service_code,
        pickup_point=pickup_point,
        started_at=started_at,
        due_at=due_at,
        share=share,
        warn_at=warn_at(started_at, due_at, share, calendar),
        traceparent=carrier.get("traceparent"),
        tracestate=carrier.get("tracestate"),
    )


async def stop_clock(
    conn: asyncpg.Connection, job_id: uuid.UUID, reason: str, at: datetime
) -> bool:
    """Stop the job's clock (picked up, cancelled) in the caller's
    transaction; nothing fires after the stop commits. False when there is no
    running clock."""
    return await sla_clocks.stop(conn, job_id, reason=reason, at=at)


class SlaScheduler(TimerScheduler):
    """Fires due warnings and breaches; any number may run side by side."""

    name = "sla"
    next_due_query = sla_clocks.NEXT_DUE
    metric = ("mpp.documents.sla", "mpp.sla.fired", "SLA warnings and breaches emitted")
    kinds = ("warning", "breach")

    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await sla_clocks.claim_due(conn, now, self.batch_size)
            warned: list[uuid.UUID] = []
            breached: list[uuid.UUID] = []
            for row in rows:
                # Warning before breach: one clock's events keep their order.
                if row["warned_at"] is None and row["warn_at"] <= now:
                    await self._emit(conn, row, now, breach=False)
                    warned.append(row["id"])
                if row["breached_at"] is None and row["due_at"] <= now:
                    await self._emit(conn, row, now, breach=True)
                    breached.append(row["id"])
            if warned:
                await sla_clocks.mark_warned(conn, now, warned)
            if breached:
                await sla_clocks.mark_breached(conn, now, breached)
        if warned:
            self.fired_counter.add(len(warned), {"kind": "warning"})
        if breached:
            self.fired_counter.add(len(breached), {"kind": "breach"})
        return len(warned) + len(breached), len(rows)

    async def _emit(
        self, conn: asyncpg.Connection, row: asyncpg.Record, now: datetime, *, breach: bool
    ) -> None:
        fields: dict[str, Any] = {
            "clock_id": row["id"],
            "subject_type": row["subject_type"],
            "subject_id": row["subject_id"],
            "application_id": row["application_id"],
            "tracking_code": row["tracking_code"],
            "service_code": row["service_code"],
            "pickup_point": row["pickup_point"],
            "started_at": row["started_at"],
            "due_at": row["due_at"],
            "fired_at": now,
        }
        data = (
            SlaBreachedV1(**fields) if breach else SlaWarningV1(**fields, share=row["warn_share"])
        )
        # Linked to where the clock started; days may lie between the two.
        with linked_root_span(
            tracer,
            f"sla.{'breached' if breach else 'warning'}",
            row,
            {"mpp.sla.clock_id": str(row["id"]), "mpp.job_id": str(row["subject_id"])},
        ):
            await enqueue(
                conn,
                build_event(data, source=SOURCE, subject=str(row["subject_id"])),
                topic=Topic.SLA,
                key=str(row["subject_id"]),
            )


def scheduler_task(settings: DocumentsSettings) -> Callable[[Runtime], Awaitable[None]]:
    """The background task `create_service_app(background=...)` runs."""
    return SlaScheduler.task(settings.sla_scheduler_interval)
