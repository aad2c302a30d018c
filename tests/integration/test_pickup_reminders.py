"""Pickup windows on real PostgreSQL: each reminder and each uncollected event
is written to the outbox exactly once, with several schedulers and across
restarts, never after the window was closed by a pickup or a cancellation,
and never with a date that has passed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from mpp_documents.settings import DocumentsSettings
from mpp_documents.store.pickup_timers import CLAIM_JOBS
from mpp_documents.usecases.pickup_window import (
    PickupWindowScheduler,
    close_pickup_window,
    start_pickup_window,
)
from mpp_shared.db import create_pool
from mpp_shared.events import parse_event
from mpp_shared.events.schemas import DocumentPickupReminderV1, DocumentUncollectedV1
from tests.integration.test_sla_clocks import outbox_counts, wait_for
from tests.support.clock import HandClock

READY = datetime(2026, 7, 16, 3, 15, tzinfo=UTC)  # 10:15 WIB
DAY = timedelta(days=1)
ENDS = READY + 14 * DAY
REMINDER, UNCOLLECTED = DocumentPickupReminderV1.event_type, DocumentUncollectedV1.event_type
SETTINGS = DocumentsSettings(pickup_window_days=14, pickup_reminder_days="3,7")


@pytest.fixture
def pool(documents_pool: asyncpg.Pool) -> asyncpg.Pool:
    return documents_pool


async def ready_jobs(
    pool: asyncpg.Pool,
    count: int,
    *,
    ready_at: datetime = READY,
    settings: DocumentsSettings = SETTINGS,
) -> list[uuid.UUID]:
    """Jobs made ready for pickup, their windows opened in the same transaction."""
    job_ids = [uuid.uuid4() for _ in range(count)]
    async with pool.acquire() as conn, conn.transaction():
        for n, job_id in enumerate(job_ids):
            await conn.execute(
                "INSERT INTO jobs (id, application_id, tracking_code, service_code, state, "
                "pickup_point, version, due_at, ready_at) "
                "VALUES ($1, $2, $3, 'ktp_el', 'ready_for_pickup', 'MPP-KEDIRI', 4, $4, $5)",
                job_id,
                uuid.uuid4(),
                f"TRK{n:07d}",
                ready_at - DAY,
                ready_at,
            )
            schedule = await start_pickup_window(
                conn, job_id=job_id, ready_at=ready_at, settings=settings
            )
            assert schedule is not None
    return job_ids


async def application_of(pool: asyncpg.Pool, job_ids: list[uuid.UUID]) -> dict[str, uuid.UUID]:
    rows = await pool.fetch("SELECT id, application_id FROM jobs WHERE id = ANY($1)", job_ids)
    return {str(r["application_id"]): r["id"] for r in rows}


async def test_concurrent_schedulers_fire_each_reminder_and_end_exactly_once(
    pool: asyncpg.Pool, database: str
) -> None:
    job_ids = await ready_jobs(pool, 120)
    now = HandClock(READY)
    pools = [await create_pool(database, min_size=1, max_size=4) for _ in range(2)]
    try:
        a, b = (PickupWindowScheduler(p, now=now, batch_size=16) for p in pools)

        async def both() -> int:
            return sum(await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick()))

        assert await both() == 0
        now.at = READY + 3 * DAY
        assert await both() == 120
        assert await outbox_counts(pool) == {REMINDER: 120}
        now.at = READY + 7 * DAY + timedelta(hours=1)
        assert await both() == 120
        now.at = ENDS
        assert await both() == 120
        now.at = ENDS + 30 * DAY
        assert await both() == 0
    finally:
        for p in pools:
            await p.close()

    assert a.fired_total + b.fired_total == 360
    assert await outbox_counts(pool) == {REMINDER: 240, UNCOLLECTED: 120}
    # On the documents topic, keyed by the application, in order: 1st, 2nd, end.
    by_app = await application_of(pool, job_ids)
    rows = await pool.fetch("SELECT topic, key, payload FROM outbox ORDER BY id")
    assert {r["topic"] for r in rows} == {"mpp.documents"}
    seen: dict[str, list[str]] = {}
    for row in rows:
        event = parse_event(row["payload"])
        data = event.typed_data()
        assert isinstance(data, DocumentPickupReminderV1 | DocumentUncollectedV1)
        assert row["key"] == str(data.application_id) and event.subject == str(data.job_id)
        assert by_app[row["key"]] == data.job_id
        assert (data.state, data.version) == ("ready_for_pickup", 4)
        assert data.pickup_point == "MPP-KEDIRI"
        assert data.window_ends_at == ENDS
        assert data.due_at == READY - DAY and data.tracking_code.startswith("TRK")
        label = f"reminder {data.reminder}" if isinstance(data, DocumentPickupReminderV1) else "end"
        seen.setdefault(row["key"], []).append(label)
    assert set(seen) == set(by_app)
    assert all(labels == ["reminder 1", "reminder 2", "end"] for labels in seen.values())

    # The job stays ready for pickup, unchanged but for when it went uncollected.
    jobs = await pool.fetch("SELECT state, version, uncollected_at FROM jobs")
    assert {(j["state"], j["version"], j["uncollected_at"]) for j in jobs} == {
        ("ready_for_pickup", 4, ENDS)
    }
    outcomes = await pool.fetch(
        "SELECT kind, seq, fired_at, outcome, count(*) AS n FROM pickup_timers "
        "GROUP BY kind, seq, fired_at, outcome ORDER BY fired_at"
    )
    assert [(r["kind"], r["seq"], r["fired_at"], r["outcome"], r["n"]) for r in outcomes] == [
        ("reminder", 1, READY + 3 * DAY, "sent", 120),
        ("reminder", 2, READY + 7 * DAY + timedelta(hours=1), "sent", 120),
        ("uncollected", 0, ENDS, "sent", 120),
    ]


async def test_restarted_scheduler_fires_nothing_again(pool: asyncpg.Pool, database: str) -> None:
    await ready_jobs(pool, 20)
    now = HandClock(READY + 3 * DAY)
    assert await PickupWindowScheduler(pool, now=now).tick() == 20
    before = await outbox_counts(pool)

    # A new process: new pool, new scheduler object, same database.
    fresh_pool = await create_pool(database)
    try:
        restarted = PickupWindowScheduler(fresh_pool, now=now)
        assert await restarted.tick() == 0
        now.at = READY + 7 * DAY
        assert await restarted.tick() == 20  # only what came due since
        now.at = ENDS
        assert await restarted.tick() == 20
        again = PickupWindowScheduler(fresh_pool, now=HandClock(ENDS + 60 * DAY))
        assert await again.tick() == 0
    finally:
        await fresh_pool.close()
    assert before == {REMINDER: 20}
    assert await outbox_counts(pool) == {REMINDER: 40, UNCOLLECTED: 20}


async def test_closing_the_window_stops_pending_timers(pool: asyncpg.Pool) -> None:
    job_ids = await ready_jobs(pool, 8)
    early_pickup, early_cancel, late_pickup, waiting = (
        job_ids[:2],
        job_ids[2:3],
        job_ids[3:5],
        job_ids[5:],
    )
    async with pool.acquire() as conn, conn.transaction():
        for job_id in early_pickup:
            assert await close_pickup_window(conn, job_id, READY + DAY, "picked_up") == 3
        assert await close_pickup_window(conn, early_cancel[0], READY + 2 * DAY, "cancelled") == 3
        # Closing twice, or a job without a window, changes nothing.
        assert await close_pickup_window(conn, early_pickup[0], READY + 2 * DAY, "cancelled") == 0
        assert await close_pickup_window(conn, uuid.uuid4(), READY, "cancelled") == 0
        await conn.execute("UPDATE jobs SET state = 'picked_up' WHERE id = ANY($1)", early_pickup)
        await conn.execute("UPDATE jobs SET state = 'cancelled' WHERE id = ANY($1)", early_cancel)

    now = HandClock(READY + 3 * DAY)
    scheduler = PickupWindowScheduler(pool, now=now)
    assert await scheduler.tick() == 5
    # Picked up after the first reminder: nothing more for them.
    async with pool.acquire() as conn, conn.transaction():
        for job_id in late_pickup:
            assert await close_pickup_window(conn, job_id, now(), "picked_up") == 2
    now.at = ENDS + DAY
    assert await scheduler.tick() == 3

    by_app = await application_of(pool, job_ids)
    fired = [(by_app[r["key"]], r["event_type"]) for r in await pool.fetch("SELECT * FROM outbox")]
    assert sorted(j for j, t in fired if t == REMINDER) == sorted(late_pickup + waiting)
    assert sorted(j for j, t in fired if t == UNCOLLECTED) == sorted(waiting)
    closed = await pool.fetch(
        "SELECT job_id, close_reason, count(*) AS n FROM pickup_timers "
        "WHERE closed_at IS NOT NULL GROUP BY job_id, close_reason"
    )
    assert {(r["job_id"], r["close_reason"], r["n"]) for r in closed} == {
        *((j, "picked_up", 3) for j in early_pickup),
        (early_cancel[0], "cancelled", 3),
        *((j, "picked_up", 2) for j in late_pickup),
    }
    uncollected = await pool.fetch("SELECT id FROM jobs WHERE uncollected_at IS NOT NULL")
    assert sorted(r["id"] for r in uncollected) == sorted(waiting)


async def test_a_job_gone_from_the_shelf_is_closed_not_reminded(pool: asyncpg.Pool) -> None:
    # Picked up without its window being closed (a missed hook): the scheduler
    # closes the timers when they come due and tells nobody.
    [job_id] = await ready_jobs(pool, 1)
    await pool.execute("UPDATE jobs SET state = 'picked_up' WHERE id = $1", job_id)
    scheduler = PickupWindowScheduler(pool, now=HandClock(ENDS))
    assert await scheduler.tick() == 0
    assert await outbox_counts(pool) == {}
    assert await scheduler.next_due() is None
    reasons = await pool.fetch("SELECT close_reason FROM pickup_timers WHERE job_id = $1", job_id)
    assert [r["close_reason"] for r in reasons] == ["picked_up"] * 3


async def test_after_an_outage_only_the_latest_moment_is_sent(pool: asyncpg.Pool) -> None:
    # Back after eight days: one window has both reminders due, an older one
    # has ended as well.
    recent = await ready_jobs(pool, 2)
    older = await ready_jobs(pool, 2, ready_at=READY - 10 * DAY)
    scheduler = PickupWindowScheduler(pool, now=HandClock(READY + 8 * DAY))
    assert await scheduler.tick() == 4
    sent = {}
    for row in await pool.fetch("SELECT payload FROM outbox ORDER BY id"):
        data = parse_event(row["payload"]).typed_data()
        assert isinstance(data, DocumentPickupReminderV1 | DocumentUncollectedV1)
        sent[data.job_id] = (data.event_type, getattr(data, "reminder", None))
    # The 2nd reminder alone (the 1st would say the same), and no reminder to
    # collect by a date that has passed.
    assert sent == {
        **dict.fromkeys(recent, (REMINDER, 2)),
        **dict.fromkeys(older, (UNCOLLECTED, None)),
    }
    outcomes = await pool.fetch(
        "SELECT job_id, kind, seq, outcome FROM pickup_timers WHERE fired_at IS NOT NULL"
    )
    assert {(r["job_id"], r["kind"], r["seq"], r["outcome"]) for r in outcomes} == {
        *((j, "reminder", 1, "superseded") for j in recent + older),
        *((j, "reminder", 2, "sent") for j in recent),
        *((j, "reminder", 2, "superseded") for j in older),
        *((j, "uncollected", 0, "sent") for j in older),
    }
    assert await scheduler.tick() == 0


async def test_a_job_held_by_the_pickup_desk_is_passed_over(pool: asyncpg.Pool) -> None:
    held, free = await ready_jobs(pool, 1), await ready_jobs(pool, 1)
    now = HandClock(READY + 3 * DAY)
    scheduler = PickupWindowScheduler(pool, now=now)
    async with pool.acquire() as desk, desk.transaction():
        # The desk locks the job to hand it over, as the transition route does.
        await desk.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", held[0])
        assert await asyncio.wait_for(scheduler.tick(), 5) == 1  # not waiting for the desk
        await desk.execute("UPDATE jobs SET state = 'picked_up' WHERE id = $1", held[0])
        assert await close_pickup_window(desk, held[0], now(), "picked_up") == 3
    assert await scheduler.tick() == 0
    keys = [r["key"] for r in await pool.fetch("SELECT key FROM outbox")]
    assert keys == list(await application_of(pool, free))


async def test_opening_a_window_twice_keeps_the_first(pool: asyncpg.Pool) -> None:
    [job_id] = await ready_jobs(pool, 1)
    async with pool.acquire() as conn, conn.transaction():
        again = await start_pickup_window(
            conn,
            job_id=job_id,
            ready_at=READY + 5 * DAY,
            settings=DocumentsSettings(pickup_window_days=30, pickup_reminder_days="10"),
        )
    assert again is None
    timers = await pool.fetch(
        "SELECT kind, seq, ready_at, fire_at, window_ends_at FROM pickup_timers "
        "WHERE job_id = $1 ORDER BY fire_at",
        job_id,
    )
    assert [(t["kind"], t["seq"], t["fire_at"]) for t in timers] == [
        ("reminder", 1, READY + 3 * DAY),
        ("reminder", 2, READY + 7 * DAY),
        ("uncollected", 0, ENDS),
    ]
    assert {(t["ready_at"], t["window_ends_at"]) for t in timers} == {(READY, ENDS)}


async def test_next_wake_is_the_earliest_pending_moment(pool: asyncpg.Pool) -> None:
    now = HandClock(READY)
    scheduler = PickupWindowScheduler(pool, now=now)
    assert await scheduler.next_due() is None
    await ready_jobs(pool, 2, ready_at=READY + DAY)
    assert await scheduler.next_due() == READY + 4 * DAY
    [soon] = await ready_jobs(pool, 1)
    assert await scheduler.next_due() == READY + 3 * DAY
    async with pool.acquire() as conn, conn.transaction():
        await close_pickup_window(conn, soon, now(), "cancelled")
    assert await scheduler.next_due() == READY + 4 * DAY
    now.at = ENDS + DAY
    assert await scheduler.tick() == 2
    assert await scheduler.next_due() is None


async def test_due_jobs_are_found_through_the_partial_index(pool: asyncpg.Pool) -> None:
    await ready_jobs(pool, 50)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ANALYZE pickup_timers")
        await conn.execute("ANALYZE jobs")
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + CLAIM_JOBS, ENDS, 100))
    assert "pickup_timers_pending" in plan and "jobs_pkey" in plan, plan
    assert plan.index("Limit") < plan.index("LockRows"), plan  # locked rows count, skipped don't


async def test_running_scheduler_fires_by_itself(pool: asyncpg.Pool, database: str) -> None:
    past = datetime.now(UTC) - 15 * DAY  # the whole window lies in the past
    await ready_jobs(pool, 3, ready_at=past)
    own_pool = await create_pool(database, min_size=1, max_size=2)
    scheduler = PickupWindowScheduler(own_pool, interval=0.2)
    task = asyncio.create_task(scheduler.run())
    try:

        async def fired(n: int) -> bool:
            return sum((await outbox_counts(pool)).values()) == n

        await wait_for(lambda: fired(3))
        await ready_jobs(pool, 2, ready_at=datetime.now(UTC) - 8 * DAY)  # 2nd reminder due
        await wait_for(lambda: fired(5))
        scheduler.stop()
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await own_pool.close()
    assert await outbox_counts(pool) == {UNCOLLECTED: 3, REMINDER: 2}
