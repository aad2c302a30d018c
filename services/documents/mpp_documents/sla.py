"""SLA clocks of production jobs and the scheduler that fires them.

A clock runs from the moment a job starts to its due moment (the promise
intake made to the citizen). At `warn_at` (by default 75 % of the time used)
it emits `mpp.sla.warning.v1`, at `due_at` `mpp.sla.breached.v1`, each at most
once and only while the job is still open: a clock is stopped when the job is
picked up or cancelled.

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
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import asyncpg
from opentelemetry import trace

from mpp_documents.settings import DocumentsSettings
from mpp_shared.events import build_event
from mpp_shared.events.schemas import SlaBreachedV1, SlaWarningV1
from mpp_shared.events.topics import Topic
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.scheduling import TimerScheduler, linked_root_span, trace_carrier
from mpp_shared.service import Runtime
from mpp_shared.workcal import WorkCalendar

tracer = trace.get_tracer("mpp.documents.sla")

SOURCE = "/mpp/documents"
SUBJECT_JOB = "job"
DEFAULT_WARNING_SHARE = 0.75


# --- when to warn (pure) ------------------------------------------------------


def _aware(name: str, at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at.isoformat()}")


def working_time_between(calendar: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Office time of `calendar` within [start, end); zero when end <= start."""
    _aware("start", start)
    _aware("end", end)
    if end <= start:
        return timedelta(0)
    zone = calendar.zone
    a, b = start.astimezone(zone), end.astimezone(zone)
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        span = calendar.office_hours.days[day.weekday()]
        if span is not None and calendar.is_working_day(day):
            lo = max(a, datetime.combine(day, span[0], tzinfo=zone))
            hi = min(b, datetime.combine(day, span[1], tzinfo=zone))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def warn_at(
    started_at: datetime,
    due_at: datetime,
    share: float = DEFAULT_WARNING_SHARE,
    calendar: WorkCalendar | None = None,
) -> datetime:
    """The moment `share` of the clock's time is used.

    Without a calendar: wall time, started + share × (due − started).
    With a calendar: working time, the moment `share` of the office time
    between start and due is used (`WorkCalendar.add_working_hours`), so a
    warning never falls at night or on a weekend or holiday when nobody could
    act on it: started Fri 08:00 and due Mon 15:30 (default hours) warns Mon
    12:45, where wall time would warn on Sunday evening. When no office time
    lies between the two moments it falls back to wall time.

    The result lies in [started_at, due_at]; a clock due at or before its
    start warns at its due moment (both fire together, warning first).
    """
    _aware("started_at", started_at)
    _aware("due_at", due_at)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    if due_at <= started_at:
        return due_at
    if calendar is not None:
        office = working_time_between(calendar, started_at, due_at)
        if office > timedelta(0):
            at = calendar.add_working_hours(started_at, office * share / timedelta(hours=1))
            return min(max(at, started_at), due_at)
    return started_at + (due_at - started_at) * share


@lru_cache(maxsize=8)
def working_calendar(days_off: str = "", cuti_bersama: bool = True) -> WorkCalendar:
    """The default office hours with the service's days off (settings
    `calendar_days_off`, `calendar_cuti_bersama`), built once per process."""
    return WorkCalendar.from_settings(days_off, cuti_bersama=cuti_bersama)


# --- starting and stopping (in the caller's transaction) ----------------------

_START = """
INSERT INTO sla_clocks (id, subject_type, subject_id, application_id, tracking_code,
                        service_code, pickup_point, started_at, due_at, warn_share, warn_at,
                        traceparent, tracestate)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (subject_type, subject_id) DO NOTHING
RETURNING true
"""
_STOP = """
UPDATE sla_clocks SET stopped_at = $3, stop_reason = $4
WHERE subject_type = $1 AND subject_id = $2 AND stopped_at IS NULL
RETURNING true
"""


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
    """Start the job's clock; False when it already has one (a redelivered
    event, a retried request): the first clock stands.

    `calendar` given: the warning moment is a share of working time, else of
    wall time (see `warn_at`).
    """
    carrier = trace_carrier()  # the fired events' spans link back to this one
    created = await conn.fetchval(
        _START,
        uuid.uuid4(),
        SUBJECT_JOB,
        job_id,
        application_id,
        tracking_code,
        service_code,
        pickup_point,
        started_at,
        due_at,
        share,
        warn_at(started_at, due_at, share, calendar),
        carrier.get("traceparent"),
        carrier.get("tracestate"),
    )
    return bool(created)


async def stop_clock(
    conn: asyncpg.Connection, job_id: uuid.UUID, reason: str, at: datetime
) -> bool:
    """Stop the job's clock (picked up, cancelled); nothing fires after the
    stop commits. False when there is no running clock."""
    return bool(await conn.fetchval(_STOP, SUBJECT_JOB, job_id, at, reason))


# --- the scheduler -------------------------------------------------------------

# Both arms are served by the partial indexes; the outer conditions are
# re-checked on the newest row version once locked, so a row another
# instance has just marked or a clock just stopped is not fired again.
_CLAIM_DUE = """
SELECT id, subject_type, subject_id, application_id, tracking_code, service_code,
       pickup_point, started_at, due_at, warn_share, warn_at, warned_at, breached_at,
       traceparent, tracestate
FROM sla_clocks
WHERE stopped_at IS NULL
  AND ((warned_at IS NULL AND warn_at <= $1) OR (breached_at IS NULL AND due_at <= $1))
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_MARK_WARNED = "UPDATE sla_clocks SET warned_at = $1 WHERE id = ANY($2::uuid[])"
_MARK_BREACHED = "UPDATE sla_clocks SET breached_at = $1 WHERE id = ANY($2::uuid[])"
# Two index lookups (min over each partial index); NULL when nothing is pending.
_NEXT_DUE = """
SELECT least(
    (SELECT min(warn_at) FROM sla_clocks WHERE warned_at IS NULL AND stopped_at IS NULL),
    (SELECT min(due_at) FROM sla_clocks WHERE breached_at IS NULL AND stopped_at IS NULL)
)
"""


class SlaScheduler(TimerScheduler):
    """Fires due warnings and breaches; any number may run side by side."""

    name = "sla"
    next_due_query = _NEXT_DUE
    metric = ("mpp.documents.sla", "mpp.sla.fired", "SLA warnings and breaches emitted")

    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM_DUE, now, self.batch_size)
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
                await conn.execute(_MARK_WARNED, now, warned)
            if breached:
                await conn.execute(_MARK_BREACHED, now, breached)
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
