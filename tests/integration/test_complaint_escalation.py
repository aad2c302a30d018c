"""Complaint deadlines on real PostgreSQL: with two schedulers and a restart,
each missed step is escalated exactly once, an unanswered response is closed
exactly once, and a step that ended in time fires nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from mpp_complaints.domain.lifecycle import Deadlines, Status, Step
from mpp_complaints.usecases.deadlines import DeadlineScheduler, start_step
from mpp_shared.db import create_pool
from mpp_shared.events import parse_event
from mpp_shared.workcal import WorkCalendar
from tests.support.clock import HandClock

T0 = datetime(2026, 7, 13, 2, tzinfo=UTC)  # Monday 09:00 WIB
ESCALATED, CLOSED = "mpp.complaint.escalated.v1", "mpp.complaint.closed.v1"
CAL = WorkCalendar()


@pytest.fixture
def pool(complaints_pool: asyncpg.Pool) -> asyncpg.Pool:
    return complaints_pool


async def file(pool: asyncpg.Pool, count: int, status: Status = Status.RECEIVED) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    await pool.executemany(
        "INSERT INTO complaints (id, complaint_code, category, description, channel, status, "
        "opd, created_at, updated_at) VALUES ($1, $2, 'pungli', 'dimintai uang', 'web', $3, "
        "'INSPEKTORAT', $4, $4)",
        [(i, "P" + i.hex[:9].upper(), status.value, T0) for i in ids],
    )
    return ids


async def enter(pool: asyncpg.Pool, ids: list[uuid.UUID], step: Step) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for complaint_id in ids:
            await start_step(
                conn,
                complaint_id=complaint_id,
                step=step,
                opd="INSPEKTORAT",
                started_at=T0,
                calendar=CAL,
                deadlines=Deadlines(),
            )


async def outbox(pool: asyncpg.Pool, event_type: str) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id", event_type
    )
    return [parse_event(r["payload"]).data for r in rows]


async def test_two_schedulers_and_a_restart_escalate_each_step_once(
    pool: asyncpg.Pool, database: str
) -> None:
    received = await file(pool, 60)
    assigned = await file(pool, 60, Status.ASSIGNED)
    await enter(pool, assigned, Step.FOLLOW_UP)
    now = HandClock(T0 + timedelta(hours=1))
    pools = [await create_pool(database, min_size=1, max_size=4) for _ in range(2)]
    try:
        a, b = (DeadlineScheduler(p, now=now, batch_size=8, calendar=CAL) for p in pools)
        # Nothing is due yet; the verification steps of the filed complaints start.
        assert await asyncio.gather(a.tick(), b.tick()) == [0, 0]
        steps = await pool.fetch(
            "SELECT step, due_at FROM complaint_deadlines WHERE complaint_id = ANY($1::uuid[])",
            received,
        )
        assert len(steps) == 60 and {s["step"] for s in steps} == {"verification"}
        assert {s["due_at"] for s in steps} == {CAL.add_working_days(T0, 3)}

        now.at = T0 + timedelta(days=30)  # past both deadlines
        fired = await asyncio.gather(a.tick(), b.tick())
        assert sum(fired) == 120
        # A restart: new schedulers on the same database fire nothing more.
        c = DeadlineScheduler(pools[0], now=now, calendar=CAL)
        assert await c.tick() == 0
    finally:
        for p in pools:
            await p.close()
    events = await outbox(pool, ESCALATED)
    assert len(events) == 120
    by_complaint = {e["complaint_id"]: e for e in events}
    assert set(by_complaint) == {str(i) for i in received + assigned}
    assert {by_complaint[str(i)]["step"] for i in received} == {"verification"}
    assert {by_complaint[str(i)]["step"] for i in assigned} == {"follow_up"}
    assert {by_complaint[str(i)]["opd"] for i in assigned} == {"INSPEKTORAT"}


async def test_a_new_step_escalates_again_once(pool: asyncpg.Pool) -> None:
    [complaint] = await file(pool, 1, Status.ASSIGNED)
    await enter(pool, [complaint], Step.FOLLOW_UP)
    now = HandClock(T0 + timedelta(days=30))
    scheduler = DeadlineScheduler(pool, now=now, calendar=CAL)
    assert await scheduler.tick() == 1
    assert await scheduler.tick() == 0
    await enter(pool, [complaint], Step.FOLLOW_UP)  # reassigned: a new step
    assert await scheduler.tick() == 1
    assert await scheduler.tick() == 0
    assert len(await outbox(pool, ESCALATED)) == 2


async def test_a_step_ended_in_time_fires_nothing(pool: asyncpg.Pool) -> None:
    ids = await file(pool, 3, Status.RESPONDED)
    await enter(pool, ids, Step.FOLLOW_UP)
    await enter(pool, ids, Step.AUTO_CLOSE)  # responded in time: the follow-up is cancelled
    await pool.execute(
        "UPDATE complaints SET status = 'closed' WHERE id = $1", ids[0]
    )  # closed by the reporter before the auto-close (the route cancels too)
    await pool.execute(
        "UPDATE complaint_deadlines SET cancelled_at = now() WHERE complaint_id = $1", ids[0]
    )
    scheduler = DeadlineScheduler(pool, now=HandClock(T0 + timedelta(days=30)), calendar=CAL)
    assert await scheduler.tick() == 2
    assert await outbox(pool, ESCALATED) == []
    assert len(await outbox(pool, CLOSED)) == 2


async def test_auto_close_closes_once_with_two_schedulers(
    pool: asyncpg.Pool, database: str
) -> None:
    ids = await file(pool, 40, Status.RESPONDED)
    await pool.execute("UPDATE complaints SET responded_at = $1", T0)
    await enter(pool, ids, Step.AUTO_CLOSE)
    due = CAL.add_working_days(T0, 10)
    now = HandClock(due - timedelta(minutes=1))
    pools = [await create_pool(database, min_size=1, max_size=4) for _ in range(2)]
    try:
        a, b = (DeadlineScheduler(p, now=now, batch_size=7, calendar=CAL) for p in pools)
        assert await asyncio.gather(a.tick(), b.tick()) == [0, 0]
        now.at = due + timedelta(seconds=1)
        assert sum(await asyncio.gather(a.tick(), b.tick())) == 40
        assert await DeadlineScheduler(pools[1], now=now, calendar=CAL).tick() == 0
    finally:
        for p in pools:
            await p.close()
    closed = await outbox(pool, CLOSED)
    assert len(closed) == 40 and all(e["automatic"] for e in closed)
    rows = await pool.fetch("SELECT status, version, closed_by FROM complaints")
    assert {(r["status"], r["version"], r["closed_by"]) for r in rows} == {("closed", 2, "system")}
    assert await outbox(pool, ESCALATED) == []
