"""Erasure of personal data whose purpose is over (the personal-data law,
UU 27/2022): keep the record, erase the person.

Each service describes its data kinds (`Kind`): how long a record is kept
after its purpose is over (the retention period, a setting), which records'
period has passed (`due`, SQL) and how the person is erased from them
(`erase`): the encrypted columns and blind indexes set to NULL, masked
values to `ERASED`, free text emptied, and `personal_data_erased_at` set.
Ids, states, dates, codes and counts stay, so every report and the document
register still add up.

- `RetentionJob` runs every `RETENTION_INTERVAL` seconds in every service, one
  replica at a time (a session advisory lock; the others skip the round), in
  batches of `RETENTION_BATCH` records per transaction, on the service clock
  (`mpp_shared.clock`). In the transaction that erases a batch it also empties,
  through `audit.erase_detail`, the audit details of those records that name
  the person (`Kind.audit_where`), so the audit chain still verifies.
- `erase_for_subject` applies the same rules to one resident's records now
  (a supervisor's data-subject request): what is past its period is erased,
  the rest is listed as kept, with until when and why.
- Every run is a row of `retention_runs` (shared migration 006) with its
  counts per kind, never an id of a record or a person, and counts
  `mpp_personal_data_erased_total{service,kind}`; supervisors read the recent
  runs at `GET /v1/personal-data/retention-runs` (`mpp_shared.web.retention`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
from opentelemetry import metrics
from pydantic import BaseModel

from mpp_shared import audit, clock
from mpp_shared.auth import Principal
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.errors import Language
from mpp_shared.personal_data import Kept, ServiceErasure
from mpp_shared.runtime import BackgroundTask, Runtime
from mpp_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# What a masked column holds once its person is erased (the columns are NOT
# NULL; a fully masked value reads like every other masked one).
ERASED = "***"
# The count of audit entries whose detail was emptied, beside the data kinds.
AUDIT_DETAILS = "audit_details"
# One retention job at a time per database ("mpp" "ret").
RETENTION_LOCK_ID = 0x6D7070_726574
# Who the scheduled job's audit entries name.
SYSTEM = Principal(subject="system:retention", roles=frozenset())

Trigger = Literal["schedule", "request"]
# Erase the person from the records `ids` at `now`; returns how many were erased.
EraseFn = Callable[[asyncpg.Connection, list[str], datetime], Awaitable[int]]


def _new_counter(meter: metrics.Meter) -> metrics.Counter:
    """`mpp_personal_data_erased_total{service,kind}` on `meter`."""
    return meter.create_counter(
        "mpp.personal_data.erased",
        unit="{record}",
        description="Records whose personal data was erased, by service and data kind",
    )


# The process's own (the telemetry set up at start-up receives it).
_erased = _new_counter(metrics.get_meter("mpp.personal_data"))


@dataclass(frozen=True)
class Kind:
    """One kind of personal data a service keeps."""

    name: str  # in the run table, the metric and the erasure answer
    period: timedelta  # kept this long after its purpose is over
    # SQL: ids (column `id`, text) of up to $2 records whose period started at
    # or before $1 and whose person is not erased yet, locked FOR UPDATE SKIP LOCKED.
    due: str
    # SQL ($1 text[] of ids, $2 now) or a function doing the same.
    erase: str | EraseFn
    # The audit entries telling of these records (target_type), and which of
    # them name the person: an SQL condition on their `detail` (see
    # `detail_sets`); those entries' details are emptied.
    audit_target: str | None = None
    audit_where: str | None = None

    async def erase_ids(self, conn: asyncpg.Connection, ids: list[str], now: datetime) -> int:
        if not ids:
            return 0
        if isinstance(self.erase, str):
            return len(await conn.fetch(self.erase, ids, now))
        return await self.erase(conn, ids, now)


@dataclass(frozen=True)
class Holding:
    """One record of a resident, for an erasure on request."""

    kind: str
    id: str
    # When its retention period started (its purpose ended); None while open.
    started: datetime | None
    # Why it is kept while open: (Indonesian, English).
    open_reason: tuple[str, str] = ("masih berjalan", "still in progress")
    erased: bool = False  # its person is already erased


class RetentionRun(BaseModel):
    """What one run erased, never whom."""

    id: int
    trigger: Trigger
    request_id: uuid.UUID | None
    started_at: datetime
    finished_at: datetime | None
    erased: dict[str, int]
    kept: int


_PERSONAL_ENTRIES = """
SELECT id FROM audit_log
WHERE target_type = $1 AND target_id = ANY($2::text[])
  AND position IS NOT NULL AND detail_erased_by IS NULL AND ({where})
ORDER BY id
"""


def detail_sets(*keys: str) -> str:
    """An audit condition: one of these detail keys holds a value (not null)."""
    return " OR ".join(f"detail->>'{key}' IS NOT NULL" for key in keys)


_START_RUN = """
INSERT INTO retention_runs (trigger, request_id, started_at) VALUES ($1, $2, $3) RETURNING id
"""
_FINISH_RUN = """
UPDATE retention_runs SET finished_at = $2, erased = $3::jsonb, kept = $4 WHERE id = $1
"""
_PROGRESS = "UPDATE retention_runs SET erased = $2::jsonb WHERE id = $1"
_RECENT_RUNS = """
SELECT * FROM retention_runs
WHERE ($1::text IS NULL OR trigger = $1)
ORDER BY started_at DESC, id DESC LIMIT $2
"""


async def erase_audit_details(
    conn: asyncpg.Connection, kind: Kind, ids: list[str], principal: Principal, reason: str
) -> int:
    """Empty the sealed audit details of the records `ids` that name the person;
    returns how many. An entry not sealed yet (seconds after its action; never
    for a record past its period) is left."""
    if kind.audit_target is None or kind.audit_where is None or not ids:
        return 0
    query = _PERSONAL_ENTRIES.format(where=kind.audit_where)
    entries = await conn.fetch(query, kind.audit_target, ids)
    for entry in entries:
        await audit.erase_detail(conn, principal, entry["id"], reason=reason)
    return len(entries)


async def recent_runs(
    pool: asyncpg.Pool, *, limit: int = 50, trigger: Trigger | None = None
) -> list[RetentionRun]:
    rows = await pool.fetch(_RECENT_RUNS, trigger, limit)
    return [RetentionRun(**dict(r)) for r in rows]


def _count(counter: metrics.Counter, service: str, counts: dict[str, int]) -> None:
    for kind, n in counts.items():
        if n:
            counter.add(n, {"service": service, "kind": kind})


class RetentionJob:
    """Erases the person from the records whose retention period has passed."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        service: str,
        kinds: Sequence[Kind],
        batch_size: int = 500,
        interval: float = 3600.0,
        now: Callable[[], datetime] = clock.now,
        meter: metrics.Meter | None = None,
    ) -> None:
        self.pool = pool
        self.service = service
        self.kinds = list(kinds)
        self.batch_size = batch_size
        self.interval = interval
        self.now = now
        self._stop = asyncio.Event()
        self.counter = _erased if meter is None else _new_counter(meter)
        # Every kind starts at 0, so the first erasure is an increase an alert sees.
        for kind in [*(k.name for k in self.kinds), AUDIT_DETAILS]:
            self.counter.add(0, {"service": service, "kind": kind})

    async def run_once(self) -> RetentionRun | None:
        """One run over every kind; None when another replica is running one."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RETENTION_LOCK_ID):
                return None
            try:
                return await self._run(conn)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", RETENTION_LOCK_ID)

    async def _run(self, conn: asyncpg.Connection) -> RetentionRun:
        started = self.now()
        run_id: int = await conn.fetchval(_START_RUN, "schedule", None, started)
        counts = {k.name: 0 for k in self.kinds} | {AUDIT_DETAILS: 0}
        for kind in self.kinds:
            reason = f"retention period of {kind.name} ended ({kind.period.days} days)"
            while True:
                async with conn.transaction():
                    due = await conn.fetch(kind.due, started - kind.period, self.batch_size)
                    ids = [str(r["id"]) for r in due]
                    erased = await kind.erase_ids(conn, ids, started)
                    details = await erase_audit_details(conn, kind, ids, SYSTEM, reason)
                    if erased or details:
                        # Committed with the batch: a run cut off still tells what it did.
                        progress = counts | {
                            kind.name: counts[kind.name] + erased,
                            AUDIT_DETAILS: counts[AUDIT_DETAILS] + details,
                        }
                        await conn.execute(_PROGRESS, run_id, progress)
                counts[kind.name] += erased
                counts[AUDIT_DETAILS] += details
                _count(self.counter, self.service, {kind.name: erased, AUDIT_DETAILS: details})
                if len(ids) < self.batch_size:
                    break
        finished = self.now()
        await conn.execute(_FINISH_RUN, run_id, finished, counts, 0)
        if any(counts.values()):
            log.info(
                "retention: erased %s",
                ", ".join(f"{k}={n}" for k, n in counts.items() if n),
            )
        return RetentionRun(
            id=run_id,
            trigger="schedule",
            request_id=None,
            started_at=started,
            finished_at=finished,
            erased=counts,
            kept=0,
        )

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """A run every `interval` seconds until stopped or cancelled; an outage
        of the database is logged and retried."""
        while not self._stop.is_set():
            wait = self.interval
            try:
                await self.run_once()
            except Exception as exc:
                wait = min(30.0, self.interval)
                if isinstance(exc, DATABASE_UNAVAILABLE):
                    log.warning("retention: database unavailable (%s), retrying", exc)
                else:
                    log.exception("retention: run failed, retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)


def retention_period_reason(language: Language) -> str:
    return (
        "masa retensi belum berakhir" if language == "id" else "the retention period has not ended"
    )


async def erase_for_subject(
    pool: asyncpg.Pool,
    *,
    service: str,
    kinds: Sequence[Kind],
    holdings: Sequence[Holding],
    principal: Principal,
    request_id: uuid.UUID,
    reason: str,
    language: Language = "id",
    now: datetime | None = None,
) -> ServiceErasure:
    """Apply the retention rules to one resident's records now: erase the
    person from those whose period has passed (with the audit details that
    name them), list the others as kept, with until when and why. The run is
    recorded and audited (`personal_data.erased`, target the request: counts
    and the reason, no record id) in one transaction."""
    at = now or clock.now()
    by_name = {k.name: k for k in kinds}
    counts = {k.name: 0 for k in kinds} | {AUDIT_DETAILS: 0}
    kept: list[Kept] = []
    due: dict[str, list[str]] = {}
    for holding in holdings:
        if holding.erased:
            continue
        kind = by_name.get(holding.kind)
        if kind is None or holding.started is None:
            # Open, or a kind no period ends (e.g. the register of issued documents).
            text = holding.open_reason[0 if language == "id" else 1]
            kept.append(Kept(kind=holding.kind, id=holding.id, until=None, reason=text))
        elif holding.started + kind.period > at:
            until = holding.started + kind.period
            kept.append(
                Kept(
                    kind=kind.name,
                    id=holding.id,
                    until=until,
                    reason=retention_period_reason(language),
                )
            )
        else:
            due.setdefault(kind.name, []).append(holding.id)
    audit_reason = f"data-subject request {request_id}"
    async with pool.acquire() as conn, conn.transaction():
        run_id: int = await conn.fetchval(_START_RUN, "request", request_id, at)
        for name, ids in due.items():
            kind = by_name[name]
            counts[name] += await kind.erase_ids(conn, ids, at)
            counts[AUDIT_DETAILS] += await erase_audit_details(
                conn, kind, ids, principal, audit_reason
            )
        await conn.execute(_FINISH_RUN, run_id, clock.now(), counts, len(kept))
        await audit.record(
            conn,
            principal,
            action="personal_data.erased",
            target_type="personal_data_request",
            target_id=str(request_id),
            detail={"reason": reason, "erased": counts, "kept": len(kept), "run_id": run_id},
        )
    _count(_erased, service, counts)
    return ServiceErasure(service=service, erased=counts, kept=kept)


def retention_task(settings: ServiceSettings, kinds: Sequence[Kind]) -> BackgroundTask:
    """The background task of `create_service_app(background=...)`."""

    async def personal_data_retention(runtime: Runtime) -> None:
        await RetentionJob(
            runtime.pool,
            service=settings.service_name,
            kinds=kinds,
            batch_size=settings.retention_batch,
            interval=settings.retention_interval,
        ).run()

    return personal_data_retention
