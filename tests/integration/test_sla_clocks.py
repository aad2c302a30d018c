"""SLA clocks on real PostgreSQL: each warning and breach is written to the
outbox exactly once, with several schedulers, across restarts, never for a
stopped clock, and the scheduler knows when to wake next."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from mpp_documents.usecases.sla_clock import SlaScheduler, start_clock, stop_clock
from mpp_shared.db import create_pool
from mpp_shared.events import parse_event
from mpp_shared.events.schemas import SlaBreachedV1, SlaWarningV1
from tests.support.clock import HandClock

T0 = datetime(2026, 7, 13, 1, tzinfo=UTC)
DUE = T0 + timedelta(hours=8)  # warns at T0 + 6 h with the default share
WARNING, BREACH = SlaWarningV1.event_type, SlaBreachedV1.event_type


@pytest.fixture
def pool(documents_pool: asyncpg.Pool) -> asyncpg.Pool:
    return documents_pool


async def start_clocks(
    pool: asyncpg.Pool, count: int, *, started_at: datetime = T0, due_at: datetime = DUE
) -> list[uuid.UUID]:
    job_ids = [uuid.uuid4() for _ in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        for n, job_id in enumerate(job_ids):
            assert await start_clock(
                conn,
                job_id=job_id,
                application_id=uuid.uuid4(),
                tracking_code=f"TRK-{n:05d}",
                service_code="ktp-el",
                pickup_point="MPP-KEDIRI",
                started_at=started_at,
                due_at=due_at,
                share=0.75,
            )
    return job_ids


async def outbox_counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT event_type, count(*) AS n FROM outbox GROUP BY event_type")
    return {r["event_type"]: r["n"] for r in rows}


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_concurrent_schedulers_fire_each_event_exactly_once(
    pool: asyncpg.Pool, database: str
) -> None:
    job_ids = await start_clocks(pool, 200)
    now = HandClock(DUE + timedelta(minutes=1))  # past warn_at and due_at: both fire
    pools = [await create_pool(database, min_size=1, max_size=4) for _ in range(2)]
    try:
        a, b = (SlaScheduler(p, now=now, batch_size=16) for p in pools)
        fired = await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
    finally:
        for p in pools:
            await p.close()

    assert sum(fired) == a.fired_total + b.fired_total == 400
    assert await outbox_counts(pool) == {WARNING: 200, BREACH: 200}
    per_key = await pool.fetch(
        "SELECT key, count(*) FILTER (WHERE event_type = $1) AS warnings, "
        "count(*) FILTER (WHERE event_type = $2) AS breaches, "
        "min(id) FILTER (WHERE event_type = $1) AS warning_id, "
        "min(id) FILTER (WHERE event_type = $2) AS breach_id "
        "FROM outbox GROUP BY key",
        WARNING,
        BREACH,
    )
    assert {r["key"] for r in per_key} == {str(j) for j in job_ids}
    for r in per_key:
        assert (r["warnings"], r["breaches"]) == (1, 1)
        assert r["warning_id"] < r["breach_id"]  # the warning goes out first

    # The events are what subscribers expect, on the SLA topic, keyed by job.
    rows = await pool.fetch("SELECT topic, key, payload FROM outbox ORDER BY id")
    assert {r["topic"] for r in rows} == {"mpp.sla"}
    for row in rows[:4]:
        event = parse_event(row["payload"])
        data = event.typed_data()
        assert isinstance(data, SlaWarningV1 | SlaBreachedV1)
        assert event.subject == row["key"] == str(data.subject_id)
        assert data.subject_type == "job"
        assert (data.started_at, data.due_at, data.fired_at) == (T0, DUE, now())
        assert data.tracking_code is not None and data.tracking_code.startswith("TRK-")
        if isinstance(data, SlaWarningV1):
            assert data.share == 0.75

    marked = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE warned_at = $1) AS warned, "
        "count(*) FILTER (WHERE breached_at = $1) AS breached FROM sla_clocks",
        now(),
    )
    assert (marked["warned"], marked["breached"]) == (200, 200)


async def test_restarted_scheduler_fires_nothing_again(pool: asyncpg.Pool, database: str) -> None:
    await start_clocks(pool, 30)
    now = HandClock(DUE + timedelta(hours=1))
    assert await SlaScheduler(pool, now=now).tick() == 60
    before = await outbox_counts(pool)

    # A new process: new pool, new scheduler object, same database.
    fresh_pool = await create_pool(database)
    try:
        restarted = SlaScheduler(fresh_pool, now=now)
        assert await restarted.tick() == 0
        now.at += timedelta(days=30)
        assert await restarted.tick() == 0
    finally:
        await fresh_pool.close()
    assert await outbox_counts(pool) == before == {WARNING: 30, BREACH: 30}


async def test_events_follow_the_clock(pool: asyncpg.Pool) -> None:
    await start_clocks(pool, 20)
    now = HandClock(T0)
    scheduler = SlaScheduler(pool, now=now, batch_size=7)

    now.at = T0 + timedelta(hours=6) - timedelta(microseconds=1)  # just before warn_at
    assert await scheduler.tick() == 0
    assert await outbox_counts(pool) == {}

    now.at = T0 + timedelta(hours=6)  # warn_at itself
    assert await scheduler.tick() == 20
    now.at = DUE - timedelta(microseconds=1)
    assert await scheduler.tick() == 0
    assert await outbox_counts(pool) == {WARNING: 20}

    now.at = DUE
    assert await scheduler.tick() == 20
    now.at = DUE + timedelta(days=3)
    assert await scheduler.tick() == 0
    assert await outbox_counts(pool) == {WARNING: 20, BREACH: 20}


async def test_stopped_clocks_never_fire(pool: asyncpg.Pool) -> None:
    job_ids = await start_clocks(pool, 10)
    picked_up, cancelled, open_jobs = job_ids[:3], job_ids[3:5], job_ids[5:]
    async with pool.acquire() as conn, conn.transaction():
        for job_id in picked_up:
            assert await stop_clock(conn, job_id, "picked_up", T0 + timedelta(hours=1))
        for job_id in cancelled:
            assert await stop_clock(conn, job_id, "cancelled", T0 + timedelta(hours=2))
        # Stopping twice, or a job without a clock, changes nothing.
        assert not await stop_clock(conn, picked_up[0], "cancelled", T0 + timedelta(hours=3))
        assert not await stop_clock(conn, uuid.uuid4(), "cancelled", T0)

    now = HandClock(T0 + timedelta(hours=7))  # between warn_at and due_at
    scheduler = SlaScheduler(pool, now=now)
    assert await scheduler.tick() == 5
    # Picked up after the warning: no breach for it.
    async with pool.acquire() as conn, conn.transaction():
        assert await stop_clock(conn, open_jobs[0], "picked_up", now())
    now.at = DUE + timedelta(days=1)
    assert await scheduler.tick() == 4

    fired = await pool.fetch("SELECT key, event_type FROM outbox")
    assert {r["key"] for r in fired if r["event_type"] == WARNING} == {str(j) for j in open_jobs}
    assert {r["key"] for r in fired if r["event_type"] == BREACH} == {str(j) for j in open_jobs[1:]}
    stops = await pool.fetch(
        "SELECT subject_id, stopped_at, stop_reason FROM sla_clocks WHERE stopped_at IS NOT NULL"
    )
    assert {r["subject_id"]: r["stop_reason"] for r in stops} == {
        **dict.fromkeys(picked_up, "picked_up"),
        **dict.fromkeys(cancelled, "cancelled"),
        open_jobs[0]: "picked_up",
    }


async def test_starting_a_clock_twice_keeps_the_first(pool: asyncpg.Pool) -> None:
    job_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        for due in (DUE, DUE + timedelta(days=5)):
            created = await start_clock(
                conn,
                job_id=job_id,
                application_id=uuid.uuid4(),
                tracking_code="TRK-1",
                service_code="kk",
                pickup_point=None,
                started_at=T0,
                due_at=due,
                share=0.5,
            )
            assert created is (due == DUE)
    row = await pool.fetchrow("SELECT * FROM sla_clocks WHERE subject_id = $1", job_id)
    assert (row["due_at"], row["warn_at"], row["warn_share"]) == (DUE, T0 + timedelta(hours=4), 0.5)


async def test_next_wake_is_the_earliest_pending_moment(pool: asyncpg.Pool) -> None:
    now = HandClock(T0)
    scheduler = SlaScheduler(pool, now=now)
    assert await scheduler.next_due() is None

    late = await start_clocks(pool, 3, due_at=T0 + timedelta(hours=40))  # warns at T0 + 30 h
    assert await scheduler.next_due() == T0 + timedelta(hours=30)
    soon = await start_clocks(pool, 2)  # warns at T0 + 6 h, due T0 + 8 h
    assert await scheduler.next_due() == T0 + timedelta(hours=6)

    now.at = T0 + timedelta(hours=6)
    assert await scheduler.tick() == 2
    assert await scheduler.next_due() == DUE  # the warned clocks' breach comes next

    async with pool.acquire() as conn, conn.transaction():
        for job_id in soon:
            await stop_clock(conn, job_id, "picked_up", now())
    assert await scheduler.next_due() == T0 + timedelta(hours=30)

    now.at = T0 + timedelta(hours=40)
    assert await scheduler.tick() == 6
    assert await scheduler.next_due() is None
    assert len(late) == 3


async def test_due_rows_are_found_through_the_partial_indexes(pool: asyncpg.Pool) -> None:
    await start_clocks(pool, 50)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ANALYZE sla_clocks")
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN SELECT id FROM sla_clocks WHERE stopped_at IS NULL AND "
                "((warned_at IS NULL AND warn_at <= $1) OR (breached_at IS NULL AND due_at <= $1)) "
                "LIMIT 100 FOR UPDATE SKIP LOCKED",
                DUE,
            )
        )
    assert "sla_clocks_warn_pending" in plan and "sla_clocks_breach_pending" in plan, plan


async def test_running_scheduler_survives_lost_connections(
    pool: asyncpg.Pool, database: str
) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    await start_clocks(pool, 5, started_at=past - timedelta(hours=8), due_at=past)
    own_pool = await create_pool(database, min_size=2, max_size=2)
    scheduler = SlaScheduler(own_pool, interval=0.2)
    task = asyncio.create_task(scheduler.run())
    try:

        async def fired(n: int) -> bool:
            return sum((await outbox_counts(pool)).values()) == n

        await wait_for(lambda: fired(10))
        # The database drops every connection of the scheduler's pool.
        killed = await pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        assert killed >= 1
        await start_clocks(pool, 3, started_at=past - timedelta(hours=8), due_at=past)
        await wait_for(lambda: fired(16))
        scheduler.stop()
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await own_pool.close()
    assert await outbox_counts(pool) == {WARNING: 8, BREACH: 8}
