"""Pickup windows: reminders while a finished document waits at its pickup
point, and `mpp.document.uncollected.v1` when the window ends.

When a job becomes ready_for_pickup (at `ready_at`) the window opens with one
timer per reminder day (settings `pickup_reminder_days`, default day 3 and
day 7: ready_at + 3 days, ready_at + 7 days) and one at its end (ready_at +
`pickup_window_days`, default 14), in calendar days
(`mpp_documents.domain.pickup_window`). Picking the document up or
cancelling the job closes the window: timers still pending never fire.

At its end the job keeps its state, ready_for_pickup, and records
`uncollected_at`: the document is still the citizen's and is still handed
over the usual way (no state to leave, no version bump that would make a
pickup desk's request stale). Intake shows the step "uncollected" until it is
picked up or cancelled; notify tells the citizen the document is now kept at
Disdukcapil.

Exactly once, with several instances and across restarts: the scheduler
locks the jobs with timers due, `FOR UPDATE SKIP LOCKED`, marks their timers
`fired_at` and writes the events to the outbox in the same transaction. A job
another instance (or a pickup at the desk) holds is skipped; a timer already
marked or closed no longer matches; a transaction that dies takes its marks
and its events with it. Locking the job, as a job's transition does, also
keeps the job's events in commit order under their key (the application id):
a reminder never overtakes the handover it raced with.

Several moments of one window due at once (after an outage) send only the
latest: the uncollected event alone, or the last reminder; the earlier ones
are marked `superseded`, so nobody is asked to collect by a date that passed.
A timer of a job no longer waiting for pickup (a close that was missed) is
closed by the scheduler, never fired.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg
from opentelemetry import trace

from mpp_documents.domain.jobs import JobState
from mpp_documents.domain.pickup_window import (
    REMINDER,
    UNCOLLECTED,
    PickupSchedule,
    TimerKind,
    latest_due,
    pickup_schedule,
)
from mpp_documents.settings import DocumentsSettings
from mpp_documents.store import pickup_timers
from mpp_documents.usecases import SOURCE
from mpp_shared.events import build_event
from mpp_shared.events.schemas import DocumentPickupReminderV1, DocumentUncollectedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.runtime import Runtime
from mpp_shared.scheduling import TimerScheduler, linked_root_span, trace_carrier

tracer = trace.get_tracer("mpp.documents.pickup_window")


def schedule_for(ready_at: datetime, settings: DocumentsSettings) -> PickupSchedule:
    """The window the service's settings give a document ready at `ready_at`."""
    return pickup_schedule(
        ready_at,
        window_days=settings.pickup_window_days,
        reminder_days=settings.pickup_reminders,
    )


async def start_pickup_window(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    ready_at: datetime,
    settings: DocumentsSettings,
) -> PickupSchedule | None:
    """Open the job's pickup window (in the transaction that made it ready);
    None when it already has one (a retried step): the first window stands."""
    schedule = schedule_for(ready_at, settings)
    kinds: list[TimerKind] = [REMINDER] * len(schedule.reminders) + [UNCOLLECTED]
    carrier = trace_carrier()  # the fired events' spans link back to this one
    opened = await pickup_timers.open_window(
        conn,
        job_id=job_id,
        ready_at=ready_at,
        ends_at=schedule.ends_at,
        kinds=kinds,
        seqs=[*range(1, len(schedule.reminders) + 1), 0],
        moments=[*schedule.reminders, schedule.ends_at],
        traceparent=carrier.get("traceparent"),
        tracestate=carrier.get("tracestate"),
    )
    return schedule if opened else None


async def close_pickup_window(
    conn: asyncpg.Connection, job_id: uuid.UUID, at: datetime, reason: str
) -> int:
    """Close the job's window (picked_up, cancelled) in the transaction that
    moved it: its pending timers never fire. Returns how many were pending."""
    return await pickup_timers.close_window(conn, job_id, at=at, reason=reason)


class PickupWindowScheduler(TimerScheduler):
    """Fires due reminders and window ends; any number may run side by side."""

    name = "pickup window"
    next_due_query = pickup_timers.NEXT_DUE
    metric = (
        "mpp.documents.pickup_window",
        "mpp.pickup.fired",
        "Pickup reminders and uncollected documents emitted",
    )
    kinds = (REMINDER, UNCOLLECTED, "superseded")

    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        sent: dict[TimerKind, int] = {REMINDER: 0, UNCOLLECTED: 0}
        async with self.pool.acquire() as conn, conn.transaction():
            jobs = {r["id"]: r for r in await pickup_timers.claim_jobs(conn, now, self.batch_size)}
            if not jobs:
                return 0, 0
            gone = [j for j, r in jobs.items() if r["state"] != JobState.READY_FOR_PICKUP]
            if gone:
                await pickup_timers.close_gone(conn, now, gone)
            waiting = [j for j, r in jobs.items() if r["state"] == JobState.READY_FOR_PICKUP]
            due: dict[uuid.UUID, list[asyncpg.Record]] = {}
            for timer in await pickup_timers.due_timers(conn, waiting, now):
                due.setdefault(timer["job_id"], []).append(timer)
            fired: list[uuid.UUID] = []
            superseded: list[uuid.UUID] = []
            uncollected: list[uuid.UUID] = []
            for job_id, timers in due.items():
                timer = latest_due(timers)
                await self._emit(conn, jobs[job_id], timer, now)
                fired.append(timer["id"])
                superseded += [t["id"] for t in timers if t["id"] != timer["id"]]
                sent[timer["kind"]] += 1
                if timer["kind"] == UNCOLLECTED:
                    uncollected.append(job_id)
            if fired:
                await pickup_timers.mark(conn, now, "sent", fired)
            if superseded:
                await pickup_timers.mark(conn, now, "superseded", superseded)
            if uncollected:
                await pickup_timers.mark_uncollected(conn, now, uncollected)
        for kind, count in sent.items():
            if count:
                self.fired_counter.add(count, {"kind": kind})
        if superseded:
            self.fired_counter.add(len(superseded), {"kind": "superseded"})
        return len(fired), len(jobs)

    async def _emit(
        self, conn: asyncpg.Connection, job: asyncpg.Record, timer: asyncpg.Record, now: datetime
    ) -> None:
        fields: dict[str, Any] = {
            "job_id": job["id"],
            "application_id": job["application_id"],
            "tracking_code": job["tracking_code"],
            "service_code": job["service_code"],
            "state": job["state"],
            "version": job["version"],
            "pickup_point": job["pickup_point"],
            "occurred_at": now,
            "due_at": job["due_at"],
            "window_ends_at": timer["window_ends_at"],
        }
        data: DocumentPickupReminderV1 | DocumentUncollectedV1 = (
            DocumentPickupReminderV1(**fields, reminder=timer["seq"])
            if timer["kind"] == REMINDER
            else DocumentUncollectedV1(**fields)
        )
        with linked_root_span(
            tracer,
            f"pickup.{timer['kind']}",
            timer,
            {"mpp.job_id": str(job["id"]), "mpp.pickup.timer_id": str(timer["id"])},
        ):
            await enqueue(
                conn,
                build_event(data, source=SOURCE, subject=str(job["id"])),
                topic=data.topic,
                key=str(job["application_id"]),
            )


def scheduler_task(settings: DocumentsSettings) -> Callable[[Runtime], Awaitable[None]]:
    """The background task `create_service_app(background=...)` runs; it
    wakes like the SLA scheduler (`sla_scheduler_interval`)."""
    return PickupWindowScheduler.task(settings.sla_scheduler_interval)
