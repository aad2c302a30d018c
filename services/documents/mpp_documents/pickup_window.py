"""Pickup windows: reminders while a finished document waits at its pickup
point, and `mpp.document.uncollected.v1` when the window ends.

When a job becomes ready_for_pickup (at `ready_at`) the window opens with one
timer per reminder day (settings `pickup_reminder_days`, default day 3 and
day 7: ready_at + 3 days, ready_at + 7 days) and one at its end (ready_at +
`pickup_window_days`, default 14). Days are calendar days, counted from the
moment the document became ready: the window is a rule told to the citizen
("14 hari"), and a reminder is a message, which may arrive on a weekend.
Picking the document up or cancelling the job closes the window: timers still
pending never fire.

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
and its events with it. Locking the job, as the transition route does, also
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
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from opentelemetry import trace

from mpp_documents.settings import DocumentsSettings
from mpp_shared.events import build_event
from mpp_shared.events.schemas import DocumentPickupReminderV1, DocumentUncollectedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.scheduling import TimerScheduler, linked_root_span, trace_carrier
from mpp_shared.service import Runtime

tracer = trace.get_tracer("mpp.documents.pickup_window")

SOURCE = "/mpp/documents"
REMINDER = "reminder"
UNCOLLECTED = "uncollected"
WAITING = "ready_for_pickup"


# --- when (pure) ----------------------------------------------------------------


@dataclass(frozen=True)
class PickupSchedule:
    """The moments of one pickup window."""

    ready_at: datetime
    reminders: tuple[datetime, ...]  # reminder n fires at reminders[n - 1]
    ends_at: datetime


def pickup_schedule(
    ready_at: datetime, *, window_days: int, reminder_days: Iterable[int] = ()
) -> PickupSchedule:
    """Reminders at ready_at + N days, the end at ready_at + window_days
    (calendar days, the same time of day); the days as the settings checked
    them (`mpp_documents.settings.reminder_days`)."""
    if ready_at.tzinfo is None or ready_at.utcoffset() is None:
        raise ValueError(f"ready_at must be timezone-aware, got naive {ready_at.isoformat()}")
    return PickupSchedule(
        ready_at=ready_at,
        reminders=tuple(ready_at + timedelta(days=d) for d in sorted(reminder_days)),
        ends_at=ready_at + timedelta(days=window_days),
    )


def schedule_for(ready_at: datetime, settings: DocumentsSettings) -> PickupSchedule:
    """The window the service's settings give a document ready at `ready_at`."""
    return pickup_schedule(
        ready_at,
        window_days=settings.pickup_window_days,
        reminder_days=settings.pickup_reminders,
    )


# --- opening and closing (in the caller's transaction) ----------------------------

_OPEN = """
INSERT INTO pickup_timers (id, job_id, kind, seq, ready_at, fire_at, window_ends_at,
                           traceparent, tracestate)
SELECT t.id, $1, t.kind, t.seq, $2, t.fire_at, $3, $4, $5
FROM unnest($6::uuid[], $7::text[], $8::int[], $9::timestamptz[]) AS t (id, kind, seq, fire_at)
ON CONFLICT (job_id, kind, seq) DO NOTHING
"""
_CLOSE = """
UPDATE pickup_timers SET closed_at = $2, close_reason = $3
WHERE job_id = $1 AND fired_at IS NULL AND closed_at IS NULL
"""


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


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
    moments = [*schedule.reminders, schedule.ends_at]
    kinds = [REMINDER] * len(schedule.reminders) + [UNCOLLECTED]
    seqs = [*range(1, len(schedule.reminders) + 1), 0]
    carrier = trace_carrier()  # the fired events' spans link back to this one
    status = await conn.execute(
        _OPEN,
        job_id,
        ready_at,
        schedule.ends_at,
        carrier.get("traceparent"),
        carrier.get("tracestate"),
        [uuid.uuid4() for _ in moments],
        kinds,
        seqs,
        moments,
    )
    return schedule if _count(status) else None


async def close_pickup_window(
    conn: asyncpg.Connection, job_id: uuid.UUID, at: datetime, reason: str
) -> int:
    """Close the job's window (picked_up, cancelled) in the transaction that
    moved it: its pending timers never fire. Returns how many were pending."""
    return _count(await conn.execute(_CLOSE, job_id, at, reason))


# --- the scheduler -----------------------------------------------------------------

# The jobs with a timer due, locked; jobs another transaction holds are passed
# over (LIMIT counts the locked rows only), so instances share a backlog.
_CLAIM_JOBS = """
SELECT id, application_id, tracking_code, service_code, state, version, pickup_point, due_at
FROM jobs
WHERE id IN (SELECT job_id FROM pickup_timers
             WHERE fired_at IS NULL AND closed_at IS NULL AND fire_at <= $1)
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
# Read after the jobs are locked, in a statement of its own: whatever another
# instance or a pickup committed before is seen.
_DUE_TIMERS = """
SELECT id, job_id, kind, seq, fire_at, window_ends_at, traceparent, tracestate
FROM pickup_timers
WHERE job_id = ANY($1::uuid[]) AND fired_at IS NULL AND closed_at IS NULL AND fire_at <= $2
ORDER BY job_id, fire_at, kind, seq
FOR UPDATE
"""
_MARK = "UPDATE pickup_timers SET fired_at = $1, outcome = $2 WHERE id = ANY($3::uuid[])"
_CLOSE_GONE = """
UPDATE pickup_timers t SET closed_at = $1, close_reason = j.state
FROM jobs j
WHERE j.id = t.job_id AND t.job_id = ANY($2::uuid[]) AND t.fired_at IS NULL AND t.closed_at IS NULL
"""
_MARK_UNCOLLECTED = """
UPDATE jobs SET uncollected_at = $1 WHERE id = ANY($2::uuid[]) AND uncollected_at IS NULL
"""
_NEXT_DUE = "SELECT min(fire_at) FROM pickup_timers WHERE fired_at IS NULL AND closed_at IS NULL"


def latest_due(timers: Sequence[Any]) -> Any:
    """Of one window's timers due at once, the one to send: the window's end
    if it is among them, else the last reminder."""
    ends = [t for t in timers if t["kind"] == UNCOLLECTED]
    return ends[0] if ends else max(timers, key=lambda t: (t["fire_at"], t["seq"]))


class PickupWindowScheduler(TimerScheduler):
    """Fires due reminders and window ends; any number may run side by side."""

    name = "pickup window"
    next_due_query = _NEXT_DUE
    metric = (
        "mpp.documents.pickup_window",
        "mpp.pickup.fired",
        "Pickup reminders and uncollected documents emitted",
    )

    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        sent: dict[str, int] = {REMINDER: 0, UNCOLLECTED: 0}
        async with self.pool.acquire() as conn, conn.transaction():
            jobs = {r["id"]: r for r in await conn.fetch(_CLAIM_JOBS, now, self.batch_size)}
            if not jobs:
                return 0, 0
            gone = [j for j, r in jobs.items() if r["state"] != WAITING]
            if gone:
                await conn.execute(_CLOSE_GONE, now, gone)
            waiting = [j for j, r in jobs.items() if r["state"] == WAITING]
            due: dict[uuid.UUID, list[asyncpg.Record]] = {}
            for timer in await conn.fetch(_DUE_TIMERS, waiting, now):
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
                await conn.execute(_MARK, now, "sent", fired)
            if superseded:
                await conn.execute(_MARK, now, "superseded", superseded)
            if uncollected:
                await conn.execute(_MARK_UNCOLLECTED, now, uncollected)
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
