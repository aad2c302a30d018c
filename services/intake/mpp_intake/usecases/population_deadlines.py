"""The follow-up deadline of the village's reports: a report with no follow-up
recorded and no entry applied for by its `due_at` (POPULATION_FOLLOW_UP_DAYS
working days after it was made) is escalated once to the kecamatan
supervisor, as `mpp.population.follow_up_overdue.v1` (notify e-mails it).

Exactly once, with several instances and across restarts: the scheduler
locks the due reports (`FOR UPDATE SKIP LOCKED`), marks them `escalated_at`
and writes their events to the outbox in one transaction. A report held by
another instance, or being followed up right now, is skipped and looked at
again on the next tick; a marked or followed-up report no longer matches.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from opentelemetry import trace

from mpp_intake.settings import IntakeSettings
from mpp_intake.store import population
from mpp_intake.usecases.history import SOURCE
from mpp_shared.events import build_event
from mpp_shared.events.schemas import PopulationFollowUpOverdueV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.runtime import Runtime
from mpp_shared.scheduling import TimerScheduler, linked_root_span

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mpp.intake.population")


class FollowUpDeadlines(TimerScheduler):
    """Escalates the reports not followed up in time; any number may run side by side."""

    name = "population follow-up"
    next_due_query = population.NEXT_DUE
    metric = (
        "mpp.intake.population",
        "mpp.population.escalated",
        "Village reports escalated to the kecamatan for want of a follow-up",
    )
    kinds = ("escalation",)

    async def fire_batch(self, now: datetime) -> tuple[int, int]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await population.claim_due(conn, now, self.batch_size)
            await population.mark_escalated(conn, [r["id"] for r in rows], now)
            for row in rows:
                with linked_root_span(
                    tracer,
                    "population follow-up overdue",
                    row,
                    {"mpp.report_id": str(row["id"]), "mpp.kind": row["kind"]},
                ):
                    event = PopulationFollowUpOverdueV1(
                        kecamatan_code=row["kecamatan_code"],
                        report_id=row["id"],
                        kind=row["kind"],
                        desa_code=row["desa_code"],
                        due_at=row["due_at"],
                        escalated_at=now,
                    )
                    await enqueue(
                        conn,
                        build_event(event, source=SOURCE, subject=str(row["id"])),
                        topic=event.topic,
                        key=row["desa_code"],
                    )
        if rows:
            self.fired_counter.add(len(rows), {"kind": "escalation"})
            log.info("population follow-up: %d report(s) escalated", len(rows))
        return len(rows), len(rows)


def scheduler_task(settings: IntakeSettings) -> Callable[[Runtime], Awaitable[None]]:
    """The background task `create_service_app(background=...)` runs."""

    async def population_follow_up_scheduler(runtime: Runtime) -> None:
        await FollowUpDeadlines(runtime.pool, interval=settings.population_scheduler_interval).run()

    return population_follow_up_scheduler
